import type { PoolClient } from '../../db/pool.js';

// The first half of the two-key advisory lock; any constant, the same on every node.
const TRANSFER_LOCK_SPACE = 7_352_020;

/**
 * One worker at a time per transfer, across nodes: a session advisory lock on the job's own
 * connection. A node that dies loses its connection and with it the lock, so a resumed job can go on.
 */
/** The same lock as SQL (for a statement that takes it as it makes the row): `idSql` is a text expression. */
export function tryLockSql(idSql: string): string {
  return `pg_try_advisory_lock(${TRANSFER_LOCK_SPACE}, hashtext(${idSql}))`;
}

/** Lets go of the lock as SQL (`idSql` a text expression). */
export function unlockSql(idSql: string): string {
  return `pg_advisory_unlock(${TRANSFER_LOCK_SPACE}, hashtext(${idSql}))`;
}

export async function tryLockTransfer(client: PoolClient, transferId: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [TRANSFER_LOCK_SPACE, transferId]);
  return rows[0]!.ok;
}

export async function unlockTransfer(client: PoolClient, transferId: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [TRANSFER_LOCK_SPACE, transferId]);
}
