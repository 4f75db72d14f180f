/**
 * Routing benchmark (`npm run bench routing`): a real `filudveksling serve` (child process) on each
 * queue backend, fed over SFTP by 10 concurrent senders (ssh2 clients).
 *
 * - latency: trigger closed → last metadata written, 1 KiB files, each sender waiting for its receipt
 *   before the next file (measured by the server: transfers.trigger_closed_at → deliveries.metadata_at);
 * - sustained: files/s delivered while the senders upload as fast as they can, for 2 minutes
 *   (BENCH_QUICK=1: 15 s);
 * - big file: a 1 GiB file (written into OUT directly) routed by hard link: time from its checksum
 *   to its last metadata;
 * - router only: 4000 triggers (1000 quick) laid into OUT while serve is stopped, then drained by
 *   the start scan and the router — its capacity without the SFTP edge on the same cores;
 * - the serve process's RSS, sampled every second.
 *
 * Needs PostgreSQL at 127.0.0.1:5432 (trust, database `test`) and Redis at 127.0.0.1:6379, like the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { decideDeclaration, receiveDeclaration } from '../src/infref/declaration.js';
import { issueInfRef } from '../src/infref/issue-infref.js';
import { addRoute } from '../src/routes/add-route.js';
import { registerSystem } from '../src/systems/register-system.js';
import { parsePublicKey } from '../src/systems/ssh-public-key.js';
import type { SystemRow } from '../src/systems/find-system.js';
import { buildTrigger } from '../src/triggers/build-xml.js';
import type { Trigger } from '../src/triggers/parse-trigger.js';
import { addVendor } from '../src/vendors/add-vendor.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const SENDERS = Number(process.env.BENCH_SENDERS) || 10;
const SUSTAIN_MS = QUICK ? 15_000 : 120_000;
const LATENCY_FILES_PER_SENDER = QUICK ? 20 : 50;
const BIG_BYTES = Number(process.env.BENCH_BIG_BYTES) || 1024 ** 3;
const AARHUS_CVR = '55133018';

interface Sender {
  system: SystemRow;
  privateKey: string;
  infref: string;
}

interface Env {
  backend: 'postgres' | 'redis';
  dbName: string;
  dbUrl: string;
  pool: Pool;
  dataDir: string;
  senders: Sender[];
  recipient: SystemRow;
  serve: ChildProcess;
  httpPort: number;
  sftpPort: number;
  serveEnv: Record<string, string | undefined>;
  rss: number[];
  sampler?: NodeJS.Timeout;
}

export async function run(): Promise<object> {
  const results: Record<string, unknown> = { quick: QUICK, senders: SENDERS, sustainSeconds: SUSTAIN_MS / 1000 };
  for (const backend of ['postgres', 'redis'] as const) {
    const env = await setUp(backend);
    try {
      const latency = await measureLatency(env);
      const sustained = await measureSustained(env);
      const routerOnly = await measureRouterDrain(env, QUICK ? 1000 : 4000);
      const big = backend === 'postgres' ? await measureBigFile(env) : undefined;
      results[backend] = {
        latencyMs: latency,
        sustained,
        routerOnlyDrain: routerOnly,
        ...(big ? { bigFile: big } : {}),
        serveRssMiB: { max: Math.max(...env.rss), last: env.rss[env.rss.length - 1], samples: env.rss.length },
      };
      process.stderr.write(`${backend}: ${JSON.stringify(results[backend])}\n`);
    } finally {
      await tearDown(env);
    }
  }
  return results;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function setUp(backend: 'postgres' | 'redis'): Promise<Env> {
  const dbName = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  const pool = createPool(dbUrl, 4);
  await migrate(pool);
  const dataDir = await mkdtemp(join(tmpdir(), `fu-bench-${backend}-`));
  const by = 'bench';
  await addVendor(pool, { name: 'Bench Vendor' }, by);
  const keyed = async (username: string) => {
    // ssh2's generator drops a leading zero byte of an ed25519 public key (1 key in 250): draw again.
    let pair = ssh2.utils.generateKeyPairSync('ed25519');
    while (ssh2.utils.parseKey(pair.private) instanceof Error || ssh2.utils.parseKey(pair.public) instanceof Error) pair = ssh2.utils.generateKeyPairSync('ed25519');
    const system = await registerSystem(pool, { username, vendor: 'Bench Vendor', key: parsePublicKey(pair.public) }, { by, dataDir });
    return { system, privateKey: pair.private };
  };
  const recipient = (await keyed('modtager-bench')).system;
  const senders: Sender[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const { system, privateKey } = await keyed(`afsender-${i}`);
    const infref = await issueInfRef(pool, { owner: system.username }, by);
    await receiveDeclaration(pool, infref.name, undefined, by);
    await decideDeclaration(pool, infref.name, 'approve', undefined, by);
    await addRoute(pool, { sender: system.username, infref: infref.name, recipient: recipient.username, authority: '0751' }, by);
    senders.push({ system, privateKey, infref: infref.name });
  }
  const httpPort = await freePort();
  const sftpPort = await freePort();
  const serveEnv: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: dbUrl,
    FILUDVEKSLING_DATA: dataDir,
    HTTP_PORT: String(httpPort),
    SFTP_PORT: String(sftpPort),
    SFTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ROUTER_CONCURRENCY: process.env.ROUTER_CONCURRENCY ?? '16',
    ...(backend === 'redis' ? { REDIS_URL, FILUDVEKSLING_QUEUE_PREFIX: `fu-bench-${randomBytes(3).toString('hex')}` } : {}),
  };
  const env = { backend, dbName, dbUrl, pool, dataDir, senders, recipient, httpPort, sftpPort, serveEnv, rss: [] as number[] } as unknown as Env;
  await startServeProcess(env);
  return env;
}

/** (Re)starts the serve child and samples its RSS every second. */
async function startServeProcess(env: Env): Promise<void> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const serve = spawn(process.execPath, [...profile, BIN, 'serve'], { env: env.serveEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${env.httpPort}/readyz`)).status === 200) break;
    } catch {
      /* not yet */
    }
    if (i > 600 || serve.exitCode !== null) throw new Error('serve did not become ready');
    await sleep(100);
  }
  env.serve = serve;
  clearInterval(env.sampler);
  env.sampler = setInterval(() => {
    void readFile(`/proc/${serve.pid}/status`, 'utf8')
      .then((s) => env.rss.push(Math.round(Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024)))
      .catch(() => undefined);
  }, 1000);
}

async function stopServeProcess(env: Env): Promise<void> {
  clearInterval(env.sampler);
  env.serve.kill('SIGTERM');
  await new Promise((r) => env.serve.once('exit', r));
}

/**
 * The router alone, without SFTP: triggers (with their files) laid into every OUT while serve is
 * stopped, then serve started; its start scan queues them all and the router drains the backlog.
 */
async function measureRouterDrain(env: Env, files: number): Promise<object> {
  await stopServeProcess(env);
  const content = randomBytes(1024);
  for (let i = 0; i < files; i++) {
    const s = env.senders[i % env.senders.length]!;
    const out = join(env.dataDir, 'homes', s.system.username, 'OUT');
    const name = `drain-${i}.csv`;
    await writeFile(join(out, name), content);
    await writeFile(join(out, `${name}.trigger`), triggerFor(s, name, content));
  }
  const since = new Date();
  await startServeProcess(env);
  for (let i = 0; i < 2400; i++) {
    const { rows } = await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE received_at >= $1 AND finished_at IS NOT NULL`, [since]);
    if (rows[0]!.n >= files) break;
    await sleep(250);
  }
  const { rows } = await env.pool.query<{ n: number; first: Date; last: Date }>(
    `SELECT count(*)::int AS n, min(t.received_at) AS first, max(d.metadata_at) AS last FROM transfers t JOIN deliveries d ON d.transfer_id = t.id
      WHERE t.received_at >= $1 AND t.status = 'delivered'`,
    [since],
  );
  const r = rows[0]!;
  return { files, delivered: r.n, filesPerSecond: round(r.n / ((r.last.getTime() - r.first.getTime()) / 1000)) };
}

async function tearDown(env: Env): Promise<void> {
  await stopServeProcess(env);
  await env.pool.end();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${env.dbName} WITH (FORCE)`);
  await admin.end();
  await rm(env.dataDir, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connect(port: number, username: string, privateKey: string): Promise<{ client: ssh2.Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
    client.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 20_000 });
  });
}

function put(sftp: SFTPWrapper, path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.open(path, 'w', (err, h) => {
      if (err) return reject(err);
      sftp.write(h, data, 0, data.length, 0, (err2) => {
        if (err2) return reject(err2);
        sftp.close(h, (err3) => (err3 ? reject(err3) : resolve()));
      });
    }),
  );
}

function triggerFor(s: Sender, fileName: string, content: Buffer): string {
  const t: Trigger = {
    fileName,
    sizeInBytes: content.length,
    sender: s.system.username,
    sendersFileId: randomUUID(),
    recipients: ['ROUTING_V1_0_0'],
    routing: {
      infRef: s.infref,
      senderItSystem: s.system.uuid,
      senderAuthority: AARHUS_CVR,
      transactionId: randomUUID(),
      senderTimestamp: new Date().toISOString(),
      recipientAuthority: AARHUS_CVR,
    },
  };
  return buildTrigger(t);
}

async function sendOne(env: Env, s: Sender, sftp: SFTPWrapper, name: string): Promise<void> {
  const content = randomBytes(1024);
  await put(sftp, `/OUT/${name}`, content);
  await put(sftp, `/OUT/${name}.trigger`, Buffer.from(triggerFor(s, name, content)));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Server-side latency of the transfers received since `since`: trigger closed → last metadata written. */
async function latencies(env: Env, since: Date): Promise<number[]> {
  const { rows } = await env.pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM (max(d.metadata_at) - t.trigger_closed_at)) * 1000 AS ms
       FROM transfers t JOIN deliveries d ON d.transfer_id = t.id
      WHERE t.received_at >= $1 AND t.status = 'delivered' GROUP BY t.id, t.trigger_closed_at`,
    [since],
  );
  return rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
}

async function measureLatency(env: Env): Promise<object> {
  const since = new Date();
  await Promise.all(
    env.senders.map(async (s) => {
      const { client, sftp } = await connect(env.sftpPort, s.system.username, s.privateKey);
      try {
        for (let i = 0; i < LATENCY_FILES_PER_SENDER; i++) {
          const name = `lat-${i}-${randomBytes(3).toString('hex')}.csv`;
          await sendOne(env, s, sftp, name);
          const receipt = join(env.dataDir, 'homes', s.system.username, 'IN', `${name}.sftpreceipt`);
          for (let t = 0; t < 2000; t++) {
            if (await stat(receipt).then(() => true, () => false)) break;
            await sleep(2);
          }
        }
      } finally {
        client.end();
      }
    }),
  );
  // A sender sees its receipt a moment before the delivery is recorded: wait for the last records.
  for (let i = 0; i < 100; i++) {
    const { rows } = await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE received_at >= $1 AND finished_at IS NOT NULL`, [since]);
    if (rows[0]!.n >= env.senders.length * LATENCY_FILES_PER_SENDER) break;
    await sleep(50);
  }
  const l = await latencies(env, since);
  const { rows: parts } = await env.pool.query<{ queue: number; decide: number; place: number; finish: number }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.at - t.trigger_closed_at) * 1000) AS queue,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM v.at - r.at) * 1000) AS decide,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.at - v.at) * 1000) AS place,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - d.at) * 1000) AS finish
       FROM transfers t
       JOIN transfer_steps r ON r.transfer_id = t.id AND r.step = 'received'
       JOIN transfer_steps v ON v.transfer_id = t.id AND v.step = 'validated'
       JOIN transfer_steps d ON d.transfer_id = t.id AND d.step = 'delivered'
       JOIN transfer_steps f ON f.transfer_id = t.id AND f.step = 'finished'
      WHERE t.received_at >= $1`,
    [since],
  );
  const breakdownP50 = Object.fromEntries(Object.entries(parts[0] ?? {}).map(([k, v]) => [k, round(Number(v))]));
  return { breakdownP50, files: l.length, p50: round(percentile(l, 50)), p90: round(percentile(l, 90)), p99: round(percentile(l, 99)), max: round(l[l.length - 1] ?? NaN) };
}

async function xactCommits(env: Env): Promise<number> {
  const { rows } = await env.pool.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

async function measureSustained(env: Env): Promise<object> {
  const commitsBefore = await xactCommits(env);
  const since = new Date();
  const deadline = Date.now() + SUSTAIN_MS;
  let uploaded = 0;
  await Promise.all(
    env.senders.map(async (s) => {
      const { client, sftp } = await connect(env.sftpPort, s.system.username, s.privateKey);
      try {
        for (let i = 0; Date.now() < deadline; i++) {
          await sendOne(env, s, sftp, `sus-${i}-${randomBytes(3).toString('hex')}.csv`);
          uploaded++;
        }
      } finally {
        client.end();
      }
    }),
  );
  const uploadSeconds = (Date.now() - since.getTime()) / 1000;
  // Let the queue drain, then count what was delivered and when.
  for (let i = 0; i < 600; i++) {
    const { rows } = await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE received_at >= $1 AND finished_at IS NULL`, [since]);
    if (rows[0]!.n === 0) break;
    await sleep(500);
  }
  const { rows } = await env.pool.query<{ n: number; first: Date; last: Date; backlogMax: number }>(
    `SELECT count(*)::int AS n, min(t.received_at) AS first, max(d.metadata_at) AS last FROM transfers t JOIN deliveries d ON d.transfer_id = t.id
      WHERE t.received_at >= $1 AND t.status = 'delivered'`,
    [since],
  );
  const r = rows[0]!;
  const deliverSeconds = (r.last.getTime() - r.first.getTime()) / 1000;
  const l = await latencies(env, since);
  const commits = (await xactCommits(env)) - commitsBefore;
  return {
    postgresCommitsPerTransfer: round(commits / Math.max(1, r.n)),
    uploaded,
    delivered: r.n,
    uploadFilesPerSecond: round(uploaded / uploadSeconds),
    deliveredFilesPerSecond: round(r.n / deliverSeconds),
    latencyUnderLoadMs: { p50: round(percentile(l, 50)), p99: round(percentile(l, 99)) },
  };
}

async function measureBigFile(env: Env): Promise<object> {
  const s = env.senders[0]!;
  const out = join(env.dataDir, 'homes', s.system.username, 'OUT');
  const name = 'big.bin';
  // Write the file under a hidden name, then rename it in: complete under its real name at once.
  const temp = join(out, '.big.bin.writing');
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const ws = createWriteStream(temp);
    ws.on('error', reject);
    const chunk = randomBytes(8 << 20);
    let written = 0;
    const pump = () => {
      while (written < BIG_BYTES) {
        const part = chunk.subarray(0, Math.min(chunk.length, BIG_BYTES - written));
        hash.update(part);
        written += part.length;
        if (!ws.write(part)) return void ws.once('drain', pump);
      }
      ws.end(resolve);
    };
    pump();
  });
  await rename(temp, join(out, name));
  const content = { length: BIG_BYTES } as Buffer;
  const trigger = triggerFor(s, name, content);
  await writeFile(join(out, '.big.trigger.writing'), trigger);
  const t0 = Date.now();
  await rename(join(out, '.big.trigger.writing'), join(out, `${name}.trigger`));
  const receipt = join(env.dataDir, 'homes', s.system.username, 'IN', `${name}.sftpreceipt`);
  for (let i = 0; i < 3000; i++) {
    if (await stat(receipt).then(() => true, () => false)) break;
    await sleep(20);
  }
  const total = Date.now() - t0;
  const { rows } = await env.pool.query<{ step: string; at: Date }>(
    `SELECT s.step, s.at FROM transfer_steps s JOIN transfers t ON t.id = s.transfer_id WHERE t.trigger_name = 'big.bin.trigger' ORDER BY s.at`,
  );
  const at = (step: string) => rows.find((r) => r.step === step)?.at.getTime();
  const { rows: d } = await env.pool.query<{ metadata_at: Date }>(
    `SELECT d.metadata_at FROM deliveries d JOIN transfers t ON t.id = d.transfer_id WHERE t.trigger_name = 'big.bin.trigger'`,
  );
  const hashed = at('hashed');
  const lastMetadata = Math.max(...d.map((r) => r.metadata_at.getTime()));
  const delivered = join(env.dataDir, 'homes', env.recipient.username, 'IN', '0751', name);
  const [a, b] = await Promise.all([stat(delivered), stat(join(out, '..', '..', env.recipient.username, 'IN', '0751', name))]);
  return {
    bytes: BIG_BYTES,
    triggerToReceiptMs: total,
    checksumMs: hashed !== undefined && at('file-taken') !== undefined ? hashed - at('file-taken')! : undefined,
    checksumToLastMetadataMs: hashed !== undefined ? lastMetadata - hashed : undefined,
    hardLinked: a.nlink >= 1 && a.ino === b.ino,
    deliveredSha256Matches: hash.digest('hex') === (await env.pool.query(`SELECT sha256 FROM transfers WHERE trigger_name = 'big.bin.trigger'`)).rows[0]?.sha256,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
