/**
 * A running `filudveksling serve` with its own database and data folder, for the router's end-to-end
 * tests: systems, InfRefs and routes are arranged with the factories; files go into OUT as a client
 * would leave them; what recipients and senders find is read back from the folders.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTrigger } from '../../src/triggers/build-xml.js';
import type { Trigger } from '../../src/triggers/parse-trigger.js';
import { freePort, startServe } from './cli.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './database.js';
import { dropRedisPrefix } from './ops-services.js';
import { waitUntil } from './wait.js';
import type { Pool } from '../../src/db/pool.js';
import { generateKeyPair, migrated, registerSystem, routedPair, type KeyPair, type TestInfRef, type TestSystem } from './factories.js';

export const XSD = fileURLToPath(new URL('../../schemas/kombit/SFTPTypes.xsd', import.meta.url));
export const AARHUS = { kommunekode: '0751', cvr: '55133018' };
export const KOBENHAVN = { kommunekode: '0101', cvr: '64942212' };

export type Backend = 'postgres' | 'redis';

export interface World {
  db: TestDatabase;
  dataDir: string;
  env: Record<string, string>;
  serve?: Awaited<ReturnType<typeof startServe>>;
  start(extra?: Record<string, string>): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function createWorld(label: string, backend: Backend = 'postgres', extraEnv: Record<string, string> = {}): Promise<World> {
  const db = await createTestDatabase(label);
  await migrated(db.pool);
  const dataDir = await mkdtemp(join(tmpdir(), `fu-${label}-`));
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    FILUDVEKSLING_DATA: dataDir,
    HTTP_PORT: String(await freePort()),
    SFTP_PORT: String(await freePort()),
    SFTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...(backend === 'redis' ? { REDIS_URL, FILUDVEKSLING_QUEUE_PREFIX: `fu-test-${label}-${randomBytes(4).toString('hex')}` } : {}),
    ...extraEnv,
  };
  const world: World = {
    db,
    dataDir,
    env,
    async start(extra = {}) {
      world.serve = await startServe({ ...env, ...extra });
    },
    async stop(signal = 'SIGTERM') {
      const s = world.serve;
      world.serve = undefined;
      return s?.stop(signal);
    },
    async close() {
      await world.stop();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
      if (env.FILUDVEKSLING_QUEUE_PREFIX) await dropRedisPrefix(REDIS_URL, env.FILUDVEKSLING_QUEUE_PREFIX);
    },
  };
  return world;
}

export const out = (w: World, user: string, name = '') => join(w.dataDir, 'homes', user, 'OUT', name);
export const inbox = (w: World, user: string, ...rest: string[]) => join(w.dataDir, 'homes', user, 'IN', ...rest);
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Writes a file into a folder as an SFTP upload leaves it: complete under its real name at once. */
export async function putAtomically(dir: string, name: string, content: Buffer | string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.test-${randomBytes(4).toString('hex')}`); // short: names up to 255 bytes have one too
  await writeFile(temp, content);
  await rename(temp, join(dir, name));
}

export interface SendOptions {
  sender: TestSystem;
  infref: TestInfRef | string;
  fileName?: string;
  content?: Buffer | string;
  authority?: string;
  senderAuthority?: string;
  recipients?: string[];
  recipientItSystem?: string;
  sendersFileId?: string | null;
  sha256?: string;
  size?: number;
  routeDate?: string;
  triggerName?: string;
  /** Change the trigger before it is written. */
  tweak?: (t: Trigger) => void;
  /** Write this instead of a built trigger. */
  rawTrigger?: string;
  /** Leave the data file out. */
  noFile?: boolean;
}

export interface Sent {
  fileName: string;
  triggerName: string;
  content: Buffer;
  trigger: Trigger;
  receiptPath: string;
}

export function makeTrigger(o: SendOptions, fileName: string, content: Buffer): Trigger {
  const t: Trigger = {
    fileName,
    sizeInBytes: o.size ?? content.length,
    sender: o.sender.username,
    recipients: o.recipients ?? ['ROUTING_V1_0_0'],
    routing: {
      infRef: typeof o.infref === 'string' ? o.infref : o.infref.name,
      senderItSystem: o.sender.uuid,
      senderAuthority: o.senderAuthority ?? o.authority ?? AARHUS.cvr,
      transactionId: randomUUID(),
      senderTimestamp: '2026-11-22T10:15:00+01:00',
      recipientAuthority: o.authority ?? AARHUS.cvr,
    },
  };
  if (o.sendersFileId !== null) t.sendersFileId = o.sendersFileId ?? randomUUID();
  if (o.recipientItSystem) t.routing.recipientItSystem = o.recipientItSystem;
  if (o.sha256) t.routing.sha256 = o.sha256;
  if (o.routeDate) t.routing.routeSelectionValueDate = o.routeDate;
  o.tweak?.(t);
  return t;
}

/** Data file, then trigger, into the sender's OUT (what a client does over SFTP). */
export async function send(w: World, o: SendOptions): Promise<Sent> {
  const fileName = o.fileName ?? `data-${randomBytes(4).toString('hex')}.csv`;
  const content = typeof o.content === 'string' ? Buffer.from(o.content) : (o.content ?? randomBytes(1024));
  const trigger = makeTrigger(o, fileName, content);
  const triggerName = o.triggerName ?? `${fileName}.trigger`;
  if (!o.noFile) await putAtomically(out(w, o.sender.username), fileName, content);
  await putAtomically(out(w, o.sender.username), triggerName, o.rawTrigger ?? buildTrigger(trigger));
  return { fileName, triggerName, content, trigger, receiptPath: inbox(w, o.sender.username, `${triggerName.replace(/\.trigger$/, '')}.sftpreceipt`) };
}

export async function waitForFile(path: string, timeoutMs = 15_000): Promise<string> {
  return waitUntil(path, async () => (existsSync(path) ? readFile(path, 'utf8') : undefined), timeoutMs);
}

/** The receipt's code (1204…) or 'SUCCESS'. */
export function receiptOutcome(xml: string): string {
  const code = /<ErrorCode>(\d+)<\/ErrorCode>/.exec(xml)?.[1];
  if (code) return code;
  return /<Message>SUCCESS<\/Message>/.test(xml) ? 'SUCCESS' : 'unknown';
}

export function xmlValue(xml: string, element: string): string | undefined {
  return new RegExp(`<(?:[\\w-]+:)?${element}(?:\\s[^>]*)?>([^<]*)</(?:[\\w-]+:)?${element}>`).exec(xml)?.[1];
}

/** Validates XML against KOMBIT's schema with xmllint; resolves to xmllint's complaint, or '' when valid. */
export function schemaErrors(xml: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('xmllint', ['--noout', '--schema', XSD, '-'], (error, _stdout, stderr) => resolve(error ? stderr || String(error) : ''));
    child.stdin!.end(xml);
  });
}

/** Every file under a folder (relative paths), for "nothing arrived anywhere" checks. */
export async function listTree(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, prefix: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else found.push(`${prefix}${e.name}`);
    }
  };
  await walk(dir, '');
  return found.sort();
}

/** A key pair that ssh2 parses (generateKeyPair now draws again when it would not). */
export const sturdyKeyPair = (type?: 'ed25519' | 'rsa' | 'ecdsa'): KeyPair => generateKeyPair(type);

/** registerSystem with a key that parses. */
export function system(pool: Pool, opts: Parameters<typeof registerSystem>[1]): Promise<TestSystem> {
  return registerSystem(pool, { keyPair: sturdyKeyPair(opts.keyType), ...opts });
}

/** routedPair with keys that parse. */
export function routed(pool: Pool, opts: Parameters<typeof routedPair>[1]): ReturnType<typeof routedPair> {
  return routedPair(pool, {
    ...opts,
    senderOpts: { keyPair: sturdyKeyPair(opts.senderOpts?.keyType), ...opts.senderOpts },
    recipientOpts: { keyPair: sturdyKeyPair(opts.recipientOpts?.keyType), ...opts.recipientOpts },
  });
}
