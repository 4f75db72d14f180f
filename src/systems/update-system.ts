import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { requireSystem } from './require-system.js';
import { notifySystemChanged } from './system-changed.js';

export interface SystemSettings {
  inboxLayout: string;
  metadataFormat: string;
  quotaBytes: number;
}

const UNITS: Record<string, number> = { '': 1, B: 1, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** `123456`, `100GiB`, `1.5 TiB`, `500MB` → bytes; a UsageError naming the value otherwise. */
export function parseBytes(value: string, option = '--quota'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`${option} '${value}' is not an amount of bytes: give a whole number of bytes or a number with KiB, MiB, GiB or TiB (e.g. 100GiB).`);
  }
  return bytes;
}

/**
 * `system update <user> [--inbox …] [--metadata …] [--quota …]`: changes what is given, audited with
 * before and after in the same transaction; SFTP nodes hear of it on the system-changed channel.
 */
export async function updateSystem(
  pool: Pool,
  username: string,
  change: { inbox?: string; metadata?: string; quotaBytes?: number },
  by: string,
): Promise<SystemSettings> {
  if (change.inbox === undefined && change.metadata === undefined && change.quotaBytes === undefined) {
    throw new UsageError('Say what to change: --inbox per-authority|flat, --metadata file-metadata|legacy and/or --quota <bytes|100GiB>.');
  }
  if (change.inbox !== undefined && change.inbox !== 'per-authority' && change.inbox !== 'flat') {
    throw new UsageError(`--inbox '${change.inbox}' is not a layout: use 'per-authority' or 'flat'.`);
  }
  if (change.metadata !== undefined && change.metadata !== 'file-metadata' && change.metadata !== 'legacy') {
    throw new UsageError(`--metadata '${change.metadata}' is not a format: use 'file-metadata' or 'legacy'.`);
  }
  return inTransaction(pool, async (db) => {
    const system = await requireSystem(db, username);
    const { rows } = await db.query<{ inbox_layout: string; metadata_format: string; quota_bytes: string }>(
      'SELECT inbox_layout, metadata_format, quota_bytes FROM systems WHERE id = $1 FOR UPDATE',
      [system.id],
    );
    const before: SystemSettings = { inboxLayout: rows[0]!.inbox_layout, metadataFormat: rows[0]!.metadata_format, quotaBytes: Number(rows[0]!.quota_bytes) };
    const after: SystemSettings = {
      inboxLayout: change.inbox ?? before.inboxLayout,
      metadataFormat: change.metadata ?? before.metadataFormat,
      quotaBytes: change.quotaBytes ?? before.quotaBytes,
    };
    if (JSON.stringify(before) === JSON.stringify(after)) throw new RefusedError(`System '${username}' already has these settings; nothing to do.`);
    await db.query('UPDATE systems SET inbox_layout = $2, metadata_format = $3, quota_bytes = $4 WHERE id = $1', [system.id, after.inboxLayout, after.metadataFormat, after.quotaBytes]);
    await audit(db, { actor: by, action: 'system.update', entity: 'system', entityId: system.id, before, after });
    await notifySystemChanged(db, username);
    return after;
  });
}
