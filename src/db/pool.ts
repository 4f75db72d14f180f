import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

// bigint columns (sizes) come back as numbers: files stay far below 2^53 bytes.
pg.types.setTypeParser(20, (v) => Number(v));
// `date` columns stay 'YYYY-MM-DD' strings: they are calendar days, not instants.
pg.types.setTypeParser(1082, (v) => v);

export function createPool(connectionString: string, max = 10): Pool {
  // PostgreSQL's JIT compiles a query once its estimated cost passes jit_above_cost, which the usage
  // pages' year-long sums do: the compiling took longer than the query saved (the operator's Forbrug
  // page for a year at 100,000 transfers: p50 87 → 55 ms, docs/benchmarks.md). Set as the connection
  // starts (a SET queued after it would overlap the first query, which pg deprecates).
  const pool = new pg.Pool({ connectionString, max, application_name: 'filudveksling', options: '-c jit=off' });
  // An idle client that loses its server emits 'error' on the pool; the next query reports it.
  pool.on('error', () => undefined);
  // A checked-out client whose server goes away (PostgreSQL restarted) emits 'error' on itself, and
  // with no listener that ends the process. Its next query fails instead, and the holder releases it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs fn in one transaction; rolls back on any error and rethrows it. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
