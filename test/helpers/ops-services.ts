/**
 * Private services for the fault tests, so a test can kill and restart them without touching the
 * machine's shared PostgreSQL (5432) and Redis (6379) that other test files use:
 * - a redis-server on a free loopback port (append-only file on, as production should run it);
 * - a PostgreSQL cluster initdb'd in a temporary folder, run as the `postgres` OS user;
 * - a small tmpfs to stand in for a data folder whose disk fills up.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cli.js';
import { sleep } from './wait.js';

const PG_BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.out}`);
  return r.out;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL (no shutdown save: what survives is what the append-only file already holds). */
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'fu-ops-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const r = await run('redis-cli', ['-p', String(port), 'ping'], 2000);
      if (r.out.includes('PONG')) return;
      await sleep(100);
    }
    throw new Error(`private redis-server on port ${port} did not answer`);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async close() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivatePostgres {
  url: string;
  port: number;
  /**
   * `pg_ctl stop -m <mode>`: 'fast' (what `systemctl restart postgresql` does: every session is
   * told FATAL and ended) or 'immediate' (every backend dies at once, as in a crash; recovery on start).
   */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** initdb + pg_ctl as the `postgres` OS user (the cluster folder is theirs), trust auth on loopback. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'fu-ops-pg-'));
  const data = join(root, 'data');
  await mkdir(data);
  await chmod(root, 0o755);
  const asPostgres = userInfo().uid === 0;
  if (asPostgres) await must('chown', ['postgres:postgres', data]);
  await chmod(data, 0o700);
  const port = await freePort();
  const pg = (tool: string, args: string[]) => (asPostgres ? must('runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args], 120_000) : must(join(PG_BIN, tool), args, 120_000));
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(data, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=off`, 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    await pg('pg_ctl', ['-D', data, '-w', '-m', mode, 'stop']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async close() {
      await pg('pg_ctl', ['-D', data, '-w', '-m', 'immediate', 'stop']).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface SmallDisk {
  dir: string;
  /** Grows the file system (what an operator does about a full disk). */
  grow(size: string): Promise<void>;
  close(): Promise<void>;
}

/** A tmpfs of `size` (e.g. '24m') mounted on a fresh temporary folder (needs root). */
export async function mountSmallDisk(size: string): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'fu-ops-disk-'));
  await must('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    async grow(newSize: string) {
      await must('mount', ['-o', `remount,size=${newSize}`, dir]);
    },
    async close() {
      await run('umount', ['-l', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes a test's queue keys (`<prefix>:*`) from a shared Redis, so test runs leave nothing behind. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  let removed = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}
