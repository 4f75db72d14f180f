/**
 * What a benchmark makes outside its own folder — databases, Redis keys, child processes — is named
 * after the bench process (`fu_bench_<pid>_…`, `fu-bench-<pid>-…`) and undone at the end of the run,
 * whether it ends well, throws, or is stopped with Ctrl-C / SIGTERM. What a run killed with SIGKILL
 * left is swept by the next run: names whose pid no longer lives on this machine.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const DATABASE_NAME = /^fu_bench_(\d+)_[0-9a-f]+$/;
const REDIS_PREFIX = /^fu-bench-(\d+)-[0-9a-f]+/;

type Undo = () => Promise<unknown>;
const undos: Array<{ what: string; undo: Undo }> = [];
let signalled: NodeJS.Signals | undefined;
let undoing: Promise<void> | undefined;

/** Registers what undoes one thing this run made; undone in reverse order by `undoAll`. */
export function leaveBehind(what: string, undo: Undo): void {
  undos.push({ what, undo });
}

/**
 * Undoes everything registered so far (each attempt on its own: one failure does not keep the rest).
 * Called again while it runs (a signal during the end of a run), it answers with the same promise.
 */
export function undoAll(): Promise<void> {
  undoing ??= (async () => {
    while (undos.length) {
      const { what, undo } = undos.pop()!;
      try {
        await undo();
      } catch (err) {
        process.stderr.write(`bench: could not remove ${what}: ${(err as Error).message}\n`);
      }
    }
  })().finally(() => (undoing = undefined));
  return undoing;
}

/** Ctrl-C or SIGTERM: undo, then exit as a signalled process would (130, 143). */
export function undoOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      signalled ??= signal;
      process.stderr.write(`bench: ${signal}, removing what the run made…\n`);
      void undoAll().finally(() => process.exit(exitCode(true)));
    });
  }
}

/** The run's exit code: the signal's when one stopped it, else 1 for a failure, 0. */
export function exitCode(failed: boolean): number {
  if (signalled) return signalled === 'SIGINT' ? 130 : 143;
  return failed ? 1 : 0;
}

/** A fresh database `fu_bench_<pid>_<hex>` on the machine's PostgreSQL, dropped by `undoAll`. */
export async function benchDatabase(): Promise<{ name: string; url: string }> {
  const name = `fu_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  leaveBehind(`database ${name}`, () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** A Redis key prefix `fu-bench-<pid>-<hex>`; its keys are deleted by `undoAll`. */
export function benchRedisPrefix(): string {
  const prefix = `fu-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  leaveBehind(`Redis keys ${prefix}*`, () => deleteRedisKeys(`${prefix}*`));
  return prefix;
}

/** Drops databases and Redis keys of earlier bench runs whose process is gone (killed with SIGKILL). */
export async function sweepDeadRuns(): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'fu\\_bench\\_%'`);
  for (const { datname } of rows) {
    const pid = Number(DATABASE_NAME.exec(datname)?.[1]);
    if (pid && !isAlive(pid)) await adminQuery(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const dead = new Set<string>();
    for await (const keys of redis.scanStream({ match: 'fu-bench-*', count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of keys) {
        const m = REDIS_PREFIX.exec(key);
        if (m && !isAlive(Number(m[1]))) dead.add(m[0]);
      }
    }
    for (const prefix of dead) await deleteRedisKeys(`${prefix}*`);
  } catch {
    // No Redis: nothing of ours can be in it.
  } finally {
    redis.disconnect();
  }
}

export async function deleteRedisKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) deleted += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    return await admin.query<R>(sql);
  } finally {
    await admin.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
