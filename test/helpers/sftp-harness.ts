/**
 * For the SFTP tests: an in-process SFTP server on a fresh database and data folder, systems and
 * keys inserted with SQL, keys made with ssh-keygen, and the three kinds of real client (ssh2's
 * Client, OpenSSH `sftp -b`, curl) over TCP.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { loadConfig } from '../../src/config/config.js';
import { migrate } from '../../src/db/migrate.js';
import { startSftpServer, type SftpLimits, type SftpServer, type SftpServerOptions } from '../../src/sftp/sftp-server.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface Harness {
  db: TestDatabase;
  dataDir: string;
  keysDir: string;
  server: SftpServer;
  port: number;
  stop(): Promise<void>;
}

export async function startHarness(
  label: string,
  limits: Partial<SftpLimits> = {},
  env: Record<string, string> = {},
  extra: Partial<SftpServerOptions> = {},
): Promise<Harness> {
  const db = await createTestDatabase(label);
  await migrate(db.pool);
  const dataDir = await mkdtemp(join(tmpdir(), `fu-${label}-`));
  const keysDir = await mkdtemp(join(tmpdir(), `fu-${label}-keys-`));
  const config = loadConfig({ FILUDVEKSLING_DATA: dataDir, DATABASE_URL: db.url, ...env });
  const server = await startSftpServer({ config, pool: db.pool, host: '127.0.0.1', port: 0, limits, ...extra });
  return {
    db,
    dataDir,
    keysDir,
    server,
    port: server.port,
    async stop() {
      await server.stop();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(keysDir, { recursive: true, force: true });
    },
  };
}

export interface TestKey {
  file: string;
  privateKey: string;
  /** '<type> <base64>' */
  publicKey: string;
  fingerprint: string;
}

/** A key pair made by ssh-keygen (as KOMBIT clients make theirs). */
export async function makeKey(dir: string, type: 'ed25519' | 'rsa' | 'ecdsa', name = `${type}-${Math.random().toString(36).slice(2)}`): Promise<TestKey> {
  const file = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-C', name, '-f', file]);
  const pub = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/);
  const blob = Buffer.from(pub[1]!, 'base64');
  return {
    file,
    privateKey: await readFile(file, 'utf8'),
    publicKey: `${pub[0]} ${pub[1]}`,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
  };
}

/** Inserts a vendor (once), a system and its keys, as `system register` would. */
export async function addSystem(h: Harness, username: string, keys: TestKey[], enabled = true): Promise<number> {
  const pool = h.db.pool;
  const vendor = await pool.query<{ id: number }>(
    `INSERT INTO vendors (name) VALUES ('SFTP test vendor') ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
  );
  const sys = await pool.query<{ id: number }>(
    `INSERT INTO systems (username, uuid, vendor_id, enabled) VALUES ($1, gen_random_uuid(), $2, $3) RETURNING id`,
    [username, vendor.rows[0]!.id, enabled],
  );
  for (const k of keys) await addKey(h, sys.rows[0]!.id, k);
  return sys.rows[0]!.id;
}

export async function addKey(h: Harness, systemId: number, k: TestKey): Promise<void> {
  await h.db.pool.query(`INSERT INTO system_keys (system_id, key_type, fingerprint, public_key, comment) VALUES ($1, $2, $3, $4, 'test')`, [
    systemId,
    k.publicKey.split(' ')[0],
    k.fingerprint,
    k.publicKey,
  ]);
}

export interface Connected {
  client: ssh2.Client;
  sftp: SFTPWrapper;
  end(): void;
}

/** ssh2's Client, logged in, with an SFTP channel. */
export function connect(port: number, username: string, privateKey: string, extra: Partial<ssh2.ConnectConfig> = {}): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return reject(err);
        resolve({ client, sftp, end: () => client.end() });
      });
    });
    client.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 10_000, ...extra });
  });
}

/** Logs in and says how it went: 'ok' or the error's message. */
export function tryLogin(port: number, username: string, cfg: Partial<ssh2.ConnectConfig>): Promise<string> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    client.on('error', (err) => resolve(err.message));
    client.on('ready', () => {
      client.end();
      resolve('ok');
    });
    client.connect({ host: '127.0.0.1', port, username, readyTimeout: 10_000, ...cfg });
  });
}

/** Promisified SFTP calls. */
export const p = {
  open: (s: SFTPWrapper, path: string, flags: string | number) =>
    new Promise<Buffer>((res, rej) => s.open(path, flags as string, (e, h) => (e ? rej(e) : res(h)))),
  write: (s: SFTPWrapper, h: Buffer, data: Buffer, position: number) =>
    new Promise<void>((res, rej) => s.write(h, data, 0, data.length, position, (e) => (e ? rej(e) : res()))),
  read: (s: SFTPWrapper, h: Buffer, len: number, position: number) =>
    new Promise<Buffer>((res, rej) => {
      const buf = Buffer.alloc(len);
      s.read(h, buf, 0, len, position, (e, n) => (e ? rej(e) : res(buf.subarray(0, n))));
    }),
  close: (s: SFTPWrapper, h: Buffer) => new Promise<void>((res, rej) => s.close(h, (e) => (e ? rej(e) : res()))),
  stat: (s: SFTPWrapper, path: string) => new Promise<ssh2.Stats>((res, rej) => s.stat(path, (e, st) => (e ? rej(e) : res(st)))),
  lstat: (s: SFTPWrapper, path: string) => new Promise<ssh2.Stats>((res, rej) => s.lstat(path, (e, st) => (e ? rej(e) : res(st)))),
  fstat: (s: SFTPWrapper, h: Buffer) => new Promise<ssh2.Stats>((res, rej) => s.fstat(h, (e, st) => (e ? rej(e) : res(st)))),
  setstat: (s: SFTPWrapper, path: string, attrs: ssh2.InputAttributes) =>
    new Promise<void>((res, rej) => s.setstat(path, attrs, (e) => (e ? rej(e) : res()))),
  fsetstat: (s: SFTPWrapper, h: Buffer, attrs: ssh2.InputAttributes) =>
    new Promise<void>((res, rej) => s.fsetstat(h, attrs, (e) => (e ? rej(e) : res()))),
  readdir: (s: SFTPWrapper, path: string) => new Promise<ssh2.FileEntryWithStats[]>((res, rej) => s.readdir(path, (e, l) => (e ? rej(e) : res(l)))),
  unlink: (s: SFTPWrapper, path: string) => new Promise<void>((res, rej) => s.unlink(path, (e) => (e ? rej(e) : res()))),
  rename: (s: SFTPWrapper, from: string, to: string) => new Promise<void>((res, rej) => s.rename(from, to, (e) => (e ? rej(e) : res()))),
  posixRename: (s: SFTPWrapper, from: string, to: string) =>
    new Promise<void>((res, rej) => s.ext_openssh_rename(from, to, (e) => (e ? rej(e) : res()))),
  realpath: (s: SFTPWrapper, path: string) => new Promise<string>((res, rej) => s.realpath(path, (e, r) => (e ? rej(e) : res(r)))),
  mkdir: (s: SFTPWrapper, path: string) => new Promise<void>((res, rej) => s.mkdir(path, (e) => (e ? rej(e) : res()))),
  rmdir: (s: SFTPWrapper, path: string) => new Promise<void>((res, rej) => s.rmdir(path, (e) => (e ? rej(e) : res()))),
  symlink: (s: SFTPWrapper, target: string, path: string) => new Promise<void>((res, rej) => s.symlink(target, path, (e) => (e ? rej(e) : res()))),
  readlink: (s: SFTPWrapper, path: string) => new Promise<string>((res, rej) => s.readlink(path, (e, t) => (e ? rej(e) : res(t)))),
  put: (s: SFTPWrapper, path: string, data: Buffer) =>
    new Promise<void>((res, rej) => s.writeFile(path, data, (e: Error | null | undefined) => (e ? rej(e) : res()))),
  get: (s: SFTPWrapper, path: string) => new Promise<Buffer>((res, rej) => s.readFile(path, (e: Error | undefined, d: Buffer) => (e ? rej(e) : res(d)))),
};

/** The SFTP status code and message of a failed call. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { code?: number };
    return { code: e.code ?? -1, message: e.message };
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

export const SFTP_STATUS = { EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, OP_UNSUPPORTED: 8 };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

export const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR'];

/** OpenSSH `sftp -b -` with the commands given; `-b` stops at the first failing command. */
export function sftpBatch(port: number, user: string, keyFile: string, commands: string[], extra: string[] = []): Promise<RunResult> {
  return run('sftp', ['-b', '-', '-i', keyFile, '-P', String(port), ...SSH_OPTS, ...extra, `${user}@127.0.0.1`], `${commands.join('\n')}\n`);
}

/** curl sftp:// (libssh2), host key not checked. */
export function curl(args: string[], keyFile: string, user: string): Promise<RunResult> {
  return run('curl', ['-sS', '--insecure', '--key', keyFile, '--pubkey', `${keyFile}.pub`, '-u', `${user}:`, ...args]);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export { spawn };
