import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { requireSystem } from './require-system.js';
import type { SshPublicKey } from './ssh-public-key.js';
import { notifySystemChanged } from './system-changed.js';

export interface SystemKeyRow {
  id: number;
  keyType: string;
  fingerprint: string;
  publicKey: string;
  comment: string | null;
  addedAt: Date;
  removedAt: Date | null;
}

export async function listSystemKeys(db: Queryable, systemId: number, opts: { includeRemoved?: boolean } = {}): Promise<SystemKeyRow[]> {
  const { rows } = await db.query<SystemKeyRow>(
    `SELECT id, key_type AS "keyType", fingerprint, public_key AS "publicKey", comment, added_at AS "addedAt", removed_at AS "removedAt"
       FROM system_keys WHERE system_id = $1 AND ($2 OR removed_at IS NULL) ORDER BY id`,
    [systemId, opts.includeRemoved ?? false],
  );
  return rows;
}

/** The active keys of several systems in one query (a list of systems with their keys), by system id. */
export async function activeKeysOf(db: Queryable, systemIds: number[]): Promise<Map<number, SystemKeyRow[]>> {
  const { rows } = await db.query<SystemKeyRow & { systemId: number }>(
    `SELECT system_id AS "systemId", id, key_type AS "keyType", fingerprint, public_key AS "publicKey", comment, added_at AS "addedAt", removed_at AS "removedAt"
       FROM system_keys WHERE system_id = ANY($1) AND removed_at IS NULL ORDER BY id`,
    [systemIds],
  );
  const keys = new Map<number, SystemKeyRow[]>(systemIds.map((id) => [id, []]));
  for (const { systemId, ...k } of rows) keys.get(systemId)!.push(k);
  return keys;
}

/** `system key add`: one more active key (SPEC §3: several are active during a rotation). */
export async function addSystemKey(pool: Pool, username: string, key: SshPublicKey, by: string): Promise<{ id: number; activeKeys: number }> {
  return inTransaction(pool, async (db) => {
    const system = await requireSystem(db, username);
    await db.query('SELECT 1 FROM systems WHERE id = $1 FOR UPDATE', [system.id]);
    const active = await listSystemKeys(db, system.id);
    if (active.some((k) => k.fingerprint === key.fingerprint)) {
      throw new RefusedError(`System '${username}' already has the key ${key.fingerprint} (${key.keyType}); nothing to add.`, { code: 'key-exists', values: { username, fingerprint: key.fingerprint } });
    }
    const { rows } = await db.query<{ id: number }>(
      'INSERT INTO system_keys (system_id, key_type, fingerprint, public_key, comment) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [system.id, key.keyType, key.fingerprint, key.publicKey, key.comment],
    );
    const id = rows[0]!.id;
    await audit(db, { actor: by, action: 'system.key.add', entity: 'system_key', entityId: id, after: { system: username, keyType: key.keyType, fingerprint: key.fingerprint, comment: key.comment } });
    await notifySystemChanged(db, username);
    return { id, activeKeys: active.length + 1 };
  });
}

/** `system key remove`: the key stops working at once (removed_at set; sessions told to end). */
export async function removeSystemKey(pool: Pool, username: string, fingerprint: string, by: string): Promise<{ id: number; activeKeys: number }> {
  return inTransaction(pool, async (db) => {
    const system = await requireSystem(db, username);
    await db.query('SELECT 1 FROM systems WHERE id = $1 FOR UPDATE', [system.id]);
    const active = await listSystemKeys(db, system.id);
    const key = active.find((k) => k.fingerprint === fingerprint);
    if (!key) {
      const list = active.map((k) => k.fingerprint).join(', ') || 'none';
      throw new RefusedError(`System '${username}' has no active key ${fingerprint} (its active keys: ${list}; see 'filudveksling system show ${username}').`, {
        code: 'key-unknown',
        values: { username, fingerprint },
      });
    }
    await db.query('UPDATE system_keys SET removed_at = now() WHERE id = $1', [key.id]);
    await audit(db, { actor: by, action: 'system.key.remove', entity: 'system_key', entityId: key.id, before: { system: username, keyType: key.keyType, fingerprint, comment: key.comment } });
    await notifySystemChanged(db, username);
    return { id: key.id, activeKeys: active.length - 1 };
  });
}
