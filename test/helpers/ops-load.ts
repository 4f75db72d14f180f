/**
 * Load and verification for the operations tests (shutdown, scale-out, faults): many senders
 * uploading data files and triggers over real SFTP (ssh2's Client) while something happens to the
 * server, and a check afterwards that every accepted transfer was delivered exactly once or
 * rejected with a receipt, and that nothing routable was left behind.
 *
 *   const x = await arrangeExchange(pool, dataDir, 10);
 *   const senders = x.senders.map((s, i) => new LoadSender(s, x.infrefs.get(s.username)!, [port]));
 *   const runs = senders.map((s) => s.run({ until: () => stop }));
 *   …fault…; stop = true; await Promise.all(runs);
 *   const report = await settle(x, dataDir, pool, senders.flatMap((s) => s.accepted));
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import type pg from 'pg';
import { buildTrigger } from '../../src/triggers/build-xml.js';
import type { Trigger } from '../../src/triggers/parse-trigger.js';
import { addRoute, issueInfRef, registerSystem, type TestSystem } from './factories.js';
import { listTree } from './router-world.js';
import { sleep, waitUntil } from './wait.js';

export const AARHUS_CVR = '55133018';

export interface Exchange {
  senders: TestSystem[];
  recipient: TestSystem;
  /** sender user name → its approved InfRef. */
  infrefs: Map<string, string>;
}

/** `n` senders, each with an approved InfRef and a route to one recipient for Aarhus (0751). */
export async function arrangeExchange(pool: pg.Pool, dataDir: string, n: number, label = 'ops'): Promise<Exchange> {
  const recipient = await registerSystem(pool, { username: `${label}-modtager`, dataDir });
  const senders: TestSystem[] = [];
  const infrefs = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const s = await registerSystem(pool, { username: `${label}-afsender-${String(i).padStart(2, '0')}`, dataDir });
    const infref = await issueInfRef(pool, s.username, { approve: true });
    await addRoute(pool, { sender: s.username, infref: infref.name, recipient: recipient.username, authority: '0751' });
    senders.push(s);
    infrefs.set(s.username, infref.name);
  }
  return { senders, recipient, infrefs };
}

export interface Accepted {
  sender: string;
  fileName: string;
  triggerName: string;
  sendersFileId: string;
  sha256: string;
  size: number;
  /** Date.now() when the trigger's CLOSE was answered OK. */
  at: number;
  /** The SFTP port it went through. */
  port: number;
}

export interface Refusal {
  sender: string;
  stage: 'connect' | 'data' | 'trigger';
  message: string;
  /** How long the failing operation took before it failed (a hang shows as a large number). */
  ms: number;
  at: number;
}

export interface SenderOptions {
  /** Size of each data file (bytes), or a function of the sequence number. */
  fileBytes?: number | ((seq: number) => number);
  /** Pause between transfers. */
  pauseMs?: number;
  /** Stop after this many accepted transfers. */
  max?: number;
  /** Reconnect after the connection is lost (default true). */
  reconnect?: boolean;
  /** Any one SFTP request taking longer than this counts as a hang (default 30 s). */
  requestTimeoutMs?: number;
}

/** Connects ssh2's Client and opens an SFTP channel. */
export function connectSftp(port: number, username: string, privateKey: string, timeoutMs = 15_000): Promise<{ client: ssh2.Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`no SFTP session within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        clearTimeout(timer);
        if (err) return reject(err);
        resolve({ client, sftp });
      });
    });
    client.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: timeoutMs });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`HANG: ${what} got no answer within ${ms} ms`)), ms))),
  ]);
}

/** open → writes (32 KiB, pipelined) → close; resolves when the CLOSE is answered OK. */
export function uploadOver(sftp: SFTPWrapper, path: string, content: Buffer, chunkDelayMs = 0): Promise<void> {
  return new Promise<void>((resolveUpload, rejectUpload) => {
    // A request on a channel that has closed meanwhile may never be answered: fail it then.
    const onClose = () => rejectUpload(new Error(`SFTP channel closed during the upload of ${path}`));
    sftp.once('close', onClose);
    const resolve = () => (sftp.off('close', onClose), resolveUpload());
    const reject = (err: Error) => (sftp.off('close', onClose), rejectUpload(err));
    const guard = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        reject(err as Error);
      }
    };
    guard(() => sftp.open(path, 'w', (err, handle) => {
      if (err) return reject(err);
      const CHUNK = 32 * 1024;
      let offset = 0;
      const next = () => {
        if (offset >= content.length) {
          return sftp.close(handle, (e) => (e ? reject(e) : resolve()));
        }
        const len = Math.min(CHUNK, content.length - offset);
        const at = offset;
        offset += len;
        sftp.write(handle, content, at, len, at, (e) => {
          if (e) {
            sftp.close(handle, () => undefined);
            return reject(e);
          }
          if (chunkDelayMs > 0) setTimeout(() => guard(next), chunkDelayMs);
          else next();
        });
      };
      next();
    }));
  });
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * One sending system in a loop: data file, then its trigger, over one SFTP connection to one of
 * `ports` (round robin on reconnect). A transfer is accepted when the trigger's CLOSE is answered
 * OK; every failure is kept with its message and how long it took.
 */
const live = new Set<LoadSender>();

/** Ends every running sender's loop and connection (afterAll: a failed test must not leave them running). */
export function haltAllSenders(): void {
  for (const s of live) s.halt();
}

export class LoadSender {
  readonly accepted: Accepted[] = [];
  readonly refusals: Refusal[] = [];
  /** Triggers whose upload failed after it started (the server may or may not have it). */
  readonly uncertain: string[] = [];
  private seq = 0;
  private halted = false;
  private connects = 0;
  private conn: { client: ssh2.Client; sftp: SFTPWrapper; port: number } | undefined;

  constructor(
    readonly system: TestSystem,
    readonly infref: string,
    readonly ports: number[],
    readonly opts: SenderOptions = {},
  ) {}

  makeTrigger(fileName: string, content: Buffer, sendersFileId: string): Trigger {
    return {
      fileName,
      sizeInBytes: content.length,
      sender: this.system.username,
      sendersFileId,
      recipients: ['ROUTING_V1_0_0'],
      routing: {
        infRef: this.infref,
        senderItSystem: this.system.uuid,
        senderAuthority: AARHUS_CVR,
        transactionId: randomUUID(),
        senderTimestamp: '2026-11-22T10:15:00+01:00',
        recipientAuthority: AARHUS_CVR,
        sha256: sha(content),
      },
    };
  }

  private async session(): Promise<SFTPWrapper> {
    if (this.conn) return this.conn.sftp;
    const port = this.ports[this.connects++ % this.ports.length]!;
    const t0 = Date.now();
    try {
      this.conn = { ...(await connectSftp(port, this.system.username, this.system.privateKey, this.opts.requestTimeoutMs ?? 30_000)), port };
    } catch (err) {
      this.refusals.push({ sender: this.system.username, stage: 'connect', message: (err as Error).message, ms: Date.now() - t0, at: Date.now() });
      throw err;
    }
    const c = this.conn;
    c.client.on('close', () => {
      if (this.conn === c) this.conn = undefined;
    });
    c.client.on('error', () => undefined);
    return c.sftp;
  }

  halt(): void {
    this.halted = true;
    this.disconnect();
  }

  disconnect(): void {
    this.conn?.client.end();
    this.conn = undefined;
  }

  /** Sends one transfer. Resolves true when accepted. */
  async sendOne(): Promise<boolean> {
    const seq = this.seq++;
    const size = typeof this.opts.fileBytes === 'function' ? this.opts.fileBytes(seq) : (this.opts.fileBytes ?? 4096);
    const content = randomBytes(size);
    const fileName = `${this.system.username}_${String(seq).padStart(5, '0')}_${randomBytes(3).toString('hex')}.csv`;
    const triggerName = `${fileName}.trigger`;
    const sendersFileId = randomUUID();
    const timeout = this.opts.requestTimeoutMs ?? 30_000;
    let sftp: SFTPWrapper;
    try {
      sftp = await this.session();
    } catch {
      return false;
    }
    const port = this.conn!.port;
    let stage: 'data' | 'trigger' = 'data';
    const t0 = Date.now();
    try {
      await withTimeout(uploadOver(sftp, `/OUT/${fileName}`, content), timeout, `upload of ${fileName}`);
      stage = 'trigger';
      await withTimeout(uploadOver(sftp, `/OUT/${triggerName}`, Buffer.from(buildTrigger(this.makeTrigger(fileName, content, sendersFileId)))), timeout, `upload of ${triggerName}`);
    } catch (err) {
      this.refusals.push({ sender: this.system.username, stage, message: (err as Error).message, ms: Date.now() - t0, at: Date.now() });
      if (stage === 'trigger') this.uncertain.push(triggerName);
      if (/HANG|No response|Not connected|closed|ECONN|shutting down/i.test((err as Error).message)) this.disconnect();
      return false;
    }
    this.accepted.push({ sender: this.system.username, fileName, triggerName, sendersFileId, sha256: sha(content), size, at: Date.now(), port });
    return true;
  }

  /** Sends until `until()` says stop (or `max` accepted); after a failure waits a little and goes on. */
  async run(o: { until: () => boolean }): Promise<void> {
    live.add(this);
    while (!this.halted && !o.until() && (this.opts.max === undefined || this.accepted.length < this.opts.max)) {
      const ok = await this.sendOne();
      if (!ok) {
        if (this.opts.reconnect === false && !this.conn) return;
        await sleep(200);
      } else if (this.opts.pauseMs) await sleep(this.opts.pauseMs);
    }
    this.disconnect();
    live.delete(this);
  }
}

export { listTree };

/** Transfers the senders have had accepted so far. */
export const totalAccepted = (senders: LoadSender[]) => senders.reduce((n, s) => n + s.accepted.length, 0);

/** /readyz as an operator would read it: status and checks, or why there was no answer. */
export const readyz = (port: string) =>
  fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
    async (r) => `${r.status} ${JSON.stringify((await r.json()).checks)}`,
    (err: Error) => `no answer (${err.message})`,
  );

export interface Settled {
  delivered: number;
  rejected: Record<string, number>;
  /** Problems found; the test expects none. */
  problems: string[];
  /** Delivered files in the recipient's inbox that no accepted trigger accounts for (from uncertain triggers). */
  extraDeliveries: number;
  /** ms from the first acceptance to the last receipt. */
  spanMs: number;
}

const receiptCode = (xml: string) => /<ErrorCode>(\d+)<\/ErrorCode>/.exec(xml)?.[1] ?? (/<Message>SUCCESS<\/Message>/.test(xml) ? 'SUCCESS' : 'unknown');

/**
 * Waits until every accepted transfer has its receipt, then checks SPEC §5 as a user would see it:
 * a SUCCESS receipt ⇒ the recipient holds that file exactly once (data + .metadata, same SHA-256);
 * an error receipt ⇒ the file reached no one; no file is delivered twice; no trigger or upload temp
 * file is left in any OUT; every transfer in the database is finished.
 */
export async function settle(x: Exchange, dataDir: string, pool: pg.Pool, accepted: Accepted[], timeoutMs = 90_000): Promise<Settled> {
  const problems: string[] = [];
  const receiptPath = (a: Accepted) => join(dataDir, 'homes', a.sender, 'IN', `${a.fileName}.sftpreceipt`);
  let lastReceipt = 0;
  await waitUntil(
    `receipts for all ${accepted.length} accepted transfers`,
    async () => {
      let missing = 0;
      for (const a of accepted) {
        const st = await stat(receiptPath(a)).catch(() => undefined);
        if (!st) missing++;
        else lastReceipt = Math.max(lastReceipt, st.mtimeMs);
      }
      return missing === 0;
    },
    timeoutMs,
    500,
  );
  // Routing may still be finishing (receipt written, spool not yet cleared): wait for the database too.
  await waitUntil(
    'every transfer finished in the database',
    async () => (await pool.query(`SELECT count(*)::int AS n FROM transfers WHERE finished_at IS NULL AND status NOT IN ('failed', 'expired')`)).rows[0].n === 0,
    timeoutMs,
    500,
  );

  const inboxDir = join(dataDir, 'homes', x.recipient.username, 'IN');
  const inbox = await listTree(inboxDir);
  const dataFiles = inbox.filter((f) => !f.endsWith('.metadata'));
  const byBase = new Map<string, string[]>();
  for (const f of dataFiles) {
    const base = f.replace(/\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, '');
    byBase.set(base, [...(byBase.get(base) ?? []), f]);
  }
  for (const [base, files] of byBase) if (files.length > 1) problems.push(`${base} delivered ${files.length} times: ${files.join(', ')}`);

  let delivered = 0;
  const rejected: Record<string, number> = {};
  const accounted = new Set<string>();
  for (const a of accepted) {
    const xml = await readFile(receiptPath(a), 'utf8');
    const code = receiptCode(xml);
    const copies = byBase.get(`0751/${a.fileName}`) ?? [];
    accounted.add(`0751/${a.fileName}`);
    if (code === 'SUCCESS') {
      delivered++;
      if (copies.length !== 1) {
        problems.push(`${a.fileName}: SUCCESS receipt but ${copies.length} copies in ${x.recipient.username}'s IN`);
        continue;
      }
      const body = await readFile(join(inboxDir, copies[0]!));
      if (sha(body) !== a.sha256) problems.push(`${a.fileName}: delivered bytes differ from the uploaded ones`);
      const meta = await readFile(join(inboxDir, `${copies[0]!}.metadata`), 'utf8').catch(() => undefined);
      if (!meta) problems.push(`${a.fileName}: delivered without its .metadata`);
      else if (!meta.includes(a.sendersFileId)) problems.push(`${a.fileName}: .metadata does not carry SendersFileId ${a.sendersFileId}`);
    } else {
      rejected[code] = (rejected[code] ?? 0) + 1;
      if (copies.length > 0) problems.push(`${a.fileName}: rejected (${code}) yet delivered`);
    }
  }
  const extraDeliveries = [...byBase.keys()].filter((b) => !accounted.has(b)).length;

  // Nothing routable or half-written left in any OUT.
  for (const s of x.senders) {
    const out = await readdir(join(dataDir, 'homes', s.username, 'OUT')).catch(() => [] as string[]);
    for (const f of out) {
      if (f.endsWith('.trigger')) problems.push(`${s.username}/OUT/${f}: a trigger left unrouted`);
      if (f.includes('.fu-upload-')) problems.push(`${s.username}/OUT/${f}: an upload temp file left behind`);
    }
  }
  const open = await pool.query(`SELECT id, status FROM transfers WHERE finished_at IS NULL AND status NOT IN ('failed', 'expired')`);
  for (const r of open.rows) problems.push(`transfer ${r.id} not finished (status ${r.status})`);
  const dup = await pool.query(`SELECT sender_system_id, senders_file_id, count(*)::int AS n FROM transfers WHERE status <> 'resent' AND senders_file_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`);
  for (const r of dup.rows) problems.push(`SendersFileId ${r.senders_file_id} made ${r.n} transfers`);
  const first = Math.min(...accepted.map((a) => a.at));
  return { delivered, rejected, problems, extraDeliveries, spanMs: Math.round(lastReceipt - first) };
}
