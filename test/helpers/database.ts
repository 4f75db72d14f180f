import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL (CI starts it): trust auth, database `test`. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A freshly created database for one test file (dropped after), so files can run in parallel.
 * Not migrated: the code under test migrates it, as it would in production.
 */
export async function createTestDatabase(label = 'fu'): Promise<TestDatabase> {
  const name = `${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(ADMIN_URL, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // drop() ends the pool before DROP … WITH (FORCE); a client still idle then (a test that timed out
  // under load) gets 'terminating connection' — expected here, and without a listener it would fail
  // whichever test file runs next in this worker.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      // Each step is bounded and named, so a teardown that hangs says where instead of timing out.
      const released = await settles(pool.end(), 15_000);
      const checkedOut = pool.totalCount - pool.idleCount;
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        const dropping = c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        if (!(await settles(dropping, 35_000))) {
          throw new Error(`DROP DATABASE ${name} took over 35 s; PostgreSQL says it waits on ${await dropWaits(name)}`);
        }
        await dropping;
      } finally {
        await c.end().catch(() => undefined);
      }
      if (!released) throw new Error(`${name}: ${checkedOut} client(s) still checked out 15 s after the test ended: a query or transaction never released its client`);
    },
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function dropWaits(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await c.connect();
    const { rows } = await c.query(`SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE query LIKE $1`, [`DROP DATABASE IF EXISTS ${name} %`]);
    return JSON.stringify(rows);
  } catch (err) {
    return `(unknown: ${(err as Error).message})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Whether the promise settles within ms (its outcome is left to the caller to await). */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([p.then(() => true, () => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return outcome;
}
