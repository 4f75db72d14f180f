import type { PoolClient } from '../../db/pool.js';

/** BEGIN…COMMIT on a client the caller holds (the router keeps one per job, with its transfer lock). */
export async function inClientTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
