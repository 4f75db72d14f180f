import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { requireSystem } from './require-system.js';
import { notifySystemChanged } from './system-changed.js';

/**
 * `system disable|enable`. A disabled system cannot log in and its open sessions end (SPEC §3):
 * SFTP nodes hear of it on the system-changed channel once this commits.
 */
export async function setSystemEnabled(pool: Pool, username: string, enabled: boolean, by: string): Promise<void> {
  await inTransaction(pool, async (db) => {
    const system = await requireSystem(db, username);
    const { rowCount } = await db.query('UPDATE systems SET enabled = $2 WHERE id = $1 AND enabled <> $2', [system.id, enabled]);
    if (!rowCount) {
      throw new RefusedError(`System '${username}' is already ${enabled ? 'enabled' : 'disabled'}; nothing to do.`, { code: enabled ? 'system-already-enabled' : 'system-already-disabled', values: { username } });
    }
    await audit(db, { actor: by, action: enabled ? 'system.enable' : 'system.disable', entity: 'system', entityId: system.id, before: { enabled: !enabled }, after: { enabled } });
    await notifySystemChanged(db, username);
  });
}
