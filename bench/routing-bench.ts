/**
 * Routing benchmark (`npm run bench routing`): a real `filudveksling serve` (child process) on each
 * queue backend (PostgreSQL, then Redis), fed over SFTP by ssh2 senders.
 *
 * - latency, 1 sender: 200 transfers from one session, each waiting for its receipt before the next;
 * - latency, 10 senders (BENCH_SENDERS): the same from 10 sessions at once, 50 files each;
 *   latency is measured by the server: trigger closed (transfers.trigger_closed_at) → last metadata
 *   written (deliveries.metadata_at);
 * - sustained: files/s delivered while the senders upload as fast as they can, for 2 minutes;
 * - router only: 4000 triggers laid into OUT while serve is stopped, then drained by the start scan
 *   and the router — its capacity without the SFTP edge on the same cores;
 * - big file (PostgreSQL run): a 1 GiB file (written into OUT directly) routed by hard link;
 * - serve's RSS, sampled every second.
 *
 * BENCH_QUICK=1 small sizes, BENCH_SMOKE=1 tiny ones (CI), BENCH_ONLY=postgres|redis one backend,
 * BENCH_CPU_PROF=<dir> a CPU profile of each serve. One size at a time (e.g. on a shared machine):
 * BENCH_ONE_SENDER_FILES, BENCH_FILES_PER_SENDER, BENCH_SUSTAIN_S, BENCH_DRAIN (triggers; 0 skips).
 * Needs PostgreSQL and Redis, like the tests.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import type { Pool } from '../src/db/pool.js';
import { decideDeclaration, receiveDeclaration } from '../src/infref/declaration.js';
import { issueInfRef } from '../src/infref/issue-infref.js';
import { addRoute } from '../src/routes/add-route.js';
import type { SystemRow } from '../src/systems/find-system.js';
import { buildTrigger } from '../src/triggers/build-xml.js';
import type { Trigger } from '../src/triggers/parse-trigger.js';
import { GiB, MiB, percentile, profileWindow, progress, QUICK, round1, sleep, SMOKE, wanted } from './bench-util.js';
import { benchWorld, BY, type BenchWorld } from './bench-world.js';
import { benchRedisPrefix, REDIS_URL } from './leftovers.js';
import { processCpuSeconds } from './process-stats.js';
import { startServe, type ServeProcess } from './serve-process.js';

const SIZES = SMOKE
  ? { oneSenderFiles: 5, filesPerSender: 3, sustainMs: 2_000, drain: 20, big: 1 * MiB }
  : QUICK
    ? { oneSenderFiles: 100, filesPerSender: 20, sustainMs: 15_000, drain: 1000, big: 256 * MiB }
    : { oneSenderFiles: 200, filesPerSender: 50, sustainMs: 120_000, drain: 4000, big: GiB };
const sized = (name: string, fallback: number) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : fallback);
SIZES.oneSenderFiles = sized('BENCH_ONE_SENDER_FILES', SIZES.oneSenderFiles);
SIZES.filesPerSender = sized('BENCH_FILES_PER_SENDER', SIZES.filesPerSender);
SIZES.sustainMs = sized('BENCH_SUSTAIN_S', SIZES.sustainMs / 1000) * 1000;
SIZES.drain = sized('BENCH_DRAIN', SIZES.drain);
const SENDERS = SMOKE ? 2 : Number(process.env.BENCH_SENDERS) || 10;
const BIG_BYTES = Number(process.env.BENCH_BIG_BYTES) || SIZES.big;
const AARHUS_CVR = '55133018';

interface Sender {
  system: SystemRow;
  privateKey: string;
  infref: string;
}

interface Env {
  backend: 'postgres' | 'redis';
  world: BenchWorld;
  pool: Pool;
  senders: Sender[];
  recipient: SystemRow;
  serveEnv: Record<string, string | undefined>;
  serve: ServeProcess;
  rssMiB: number[];
}

export async function run(): Promise<object> {
  const results: Record<string, unknown> = { sizes: SMOKE ? 'smoke' : QUICK ? 'quick' : 'full', senders: SENDERS, sustainSeconds: SIZES.sustainMs / 1000 };
  for (const backend of ['postgres', 'redis'] as const) {
    if (!wanted(backend)) continue;
    progress(`${backend}: setting up…`);
    const env = await setUp(backend);
    progress(`${backend}: serve ready`);
    const oneSender = await profileWindow(`${backend}-1-sender`, () => measureLatency(env, env.senders.slice(0, 1), SIZES.oneSenderFiles));
    progress(`${backend}: 1 sender p50/p99 ${oneSender.p50}/${oneSender.p99} ms`);
    const manySenders = await profileWindow(`${backend}-${SENDERS}-senders`, () => measureLatency(env, env.senders, SIZES.filesPerSender));
    progress(`${backend}: ${SENDERS} senders p50/p99 ${manySenders.p50}/${manySenders.p99} ms`);
    const sustained = await profileWindow(`${backend}-sustained`, () => measureSustained(env));
    progress(`${backend}: sustained ${JSON.stringify(sustained)}`);
    const routerOnlyDrain = SIZES.drain > 0 ? await profileWindow(`${backend}-drain`, () => measureRouterDrain(env, SIZES.drain)) : undefined;
    const bigFile = backend === 'postgres' ? await measureBigFile(env) : undefined;
    await env.serve.stop();
    results[backend] = {
      serveDatabase: env.world.serveDbUrl.includes('?host=') ? 'unix socket' : 'loopback tcp',
      latencyOneSenderMs: oneSender,
      latencyManySendersMs: manySenders,
      sustained,
      routerOnlyDrain,
      ...(bigFile ? { bigFile } : {}),
      serveRssMiB: { max: Math.max(...env.rssMiB), samples: env.rssMiB.length },
    };
  }
  return results;
}

async function setUp(backend: 'postgres' | 'redis'): Promise<Env> {
  const world = await benchWorld(`routing-${backend}`);
  const pool = world.pool;
  const recipient = (await world.system('modtager-bench')).system;
  const senders: Sender[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const { system, privateKey } = await world.system(`afsender-${i}`);
    const infref = await issueInfRef(pool, { owner: system.username }, BY);
    await receiveDeclaration(pool, infref.name, undefined, BY);
    await decideDeclaration(pool, infref.name, 'approve', undefined, BY);
    await addRoute(pool, { sender: system.username, infref: infref.name, recipient: recipient.username, authority: '0751' }, BY);
    senders.push({ system, privateKey: privateKey!, infref: infref.name });
  }
  const serveEnv = {
    DATABASE_URL: world.serveDbUrl,
    FILUDVEKSLING_DATA: world.dataDir,
    ROUTER_CONCURRENCY: process.env.ROUTER_CONCURRENCY ?? '16',
    ...(backend === 'redis' ? { REDIS_URL, FILUDVEKSLING_QUEUE_PREFIX: benchRedisPrefix() } : {}),
  };
  const env: Env = { backend, world, pool, senders, recipient, serveEnv, rssMiB: [], serve: undefined as unknown as ServeProcess };
  await restartServe(env);
  return env;
}

/** (Re)starts serve on the same ports; RSS samples of every serve of this backend are kept together. */
async function restartServe(env: Env): Promise<void> {
  const ports = env.serve ? { http: env.serve.httpPort, sftp: env.serve.sftpPort } : undefined;
  if (env.serve) await env.serve.stop();
  env.serve = await startServe({ role: 'all', label: `routing-${env.backend}`, env: env.serveEnv, ports, rssMiB: env.rssMiB });
}

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

function triggerFor(s: Sender, fileName: string, size: number): string {
  const t: Trigger = {
    fileName,
    sizeInBytes: size,
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

async function sendOne(s: Sender, sftp: SFTPWrapper, name: string): Promise<void> {
  const content = randomBytes(1024);
  await put(sftp, `/OUT/${name}`, content);
  await put(sftp, `/OUT/${name}.trigger`, Buffer.from(triggerFor(s, name, content.length)));
}

/** Transfers received since `since` that are finished (delivered or not). */
async function finishedSince(pool: Pool, since: Date, unfinished = false): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE received_at >= $1 AND finished_at IS ${unfinished ? '' : 'NOT '}NULL`, [since]);
  return rows[0]!.n;
}

/** Server-side latency of the transfers received since `since`: trigger closed → last metadata written. */
async function latencies(pool: Pool, since: Date): Promise<number[]> {
  const { rows } = await pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM (max(d.metadata_at) - t.trigger_closed_at)) * 1000 AS ms
       FROM transfers t JOIN deliveries d ON d.transfer_id = t.id
      WHERE t.received_at >= $1 AND t.status = 'delivered' GROUP BY t.id, t.trigger_closed_at`,
    [since],
  );
  return rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
}

function latencySummary(l: number[]): { files: number; mean: number; p50: number; p90: number; p99: number; max: number; within20msPct: number; within50msPct: number } {
  const pct = (limit: number) => round1((100 * l.filter((x) => x <= limit).length) / Math.max(1, l.length));
  return {
    files: l.length,
    mean: round1(l.reduce((a, b) => a + b, 0) / Math.max(1, l.length)),
    p50: round1(percentile(l, 50)),
    p90: round1(percentile(l, 90)),
    p99: round1(percentile(l, 99)),
    max: round1(l[l.length - 1] ?? NaN),
    within20msPct: pct(20),
    within50msPct: pct(50),
  };
}

/** Each sender sends `files` files one after another, waiting for each one's receipt. */
async function measureLatency(
  env: Env,
  senders: Sender[],
  files: number,
): Promise<ReturnType<typeof latencySummary> & { breakdownP50: object; serveCpuMsPerTransfer: number; postgresCommitsPerTransfer: number }> {
  const since = new Date();
  const commits0 = await xactCommits(env.pool);
  const cpu0 = await processCpuSeconds(env.serve.pid);
  await Promise.all(
    senders.map(async (s) => {
      const { client, sftp } = await connect(env.serve.sftpPort, s.system.username, s.privateKey);
      try {
        for (let i = 0; i < files; i++) {
          const name = `lat-${i}-${randomBytes(3).toString('hex')}.csv`;
          await sendOne(s, sftp, name);
          const receipt = join(env.world.dataDir, 'homes', s.system.username, 'IN', `${name}.sftpreceipt`);
          for (let t = 0; t < 10_000 && !(await stat(receipt).then(() => true, () => false)); t++) await sleep(2);
        }
      } finally {
        client.end();
      }
    }),
  );
  // A sender sees its receipt a moment before the delivery is recorded: wait for the last records.
  for (let i = 0; i < 200 && (await finishedSince(env.pool, since)) < senders.length * files; i++) await sleep(50);
  const serveCpuMsPerTransfer = round1((((await processCpuSeconds(env.serve.pid)) - cpu0) * 1000) / (senders.length * files));
  // The bench's own polling (finishedSince above) adds a commit now and then: ~0.1 per transfer.
  const postgresCommitsPerTransfer = round1(((await xactCommits(env.pool)) - commits0) / (senders.length * files));
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
  const breakdownP50 = Object.fromEntries(Object.entries(parts[0] ?? {}).map(([k, v]) => [k, round1(Number(v))]));
  return { ...latencySummary(await latencies(env.pool, since)), breakdownP50, serveCpuMsPerTransfer, postgresCommitsPerTransfer };
}

async function xactCommits(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

/** Delivered files/s (first received → last metadata) of what was received since `since`. */
async function deliveredRate(pool: Pool, since: Date): Promise<{ delivered: number; filesPerSecond: number }> {
  const { rows } = await pool.query<{ n: number; first: Date; last: Date }>(
    `SELECT count(*)::int AS n, min(t.received_at) AS first, max(d.metadata_at) AS last FROM transfers t JOIN deliveries d ON d.transfer_id = t.id
      WHERE t.received_at >= $1 AND t.status = 'delivered'`,
    [since],
  );
  const r = rows[0]!;
  const seconds = r.n ? (r.last.getTime() - r.first.getTime()) / 1000 : NaN;
  return { delivered: r.n, filesPerSecond: round1(r.n / Math.max(seconds, 0.001)) };
}

async function measureSustained(env: Env): Promise<object> {
  const commitsBefore = await xactCommits(env.pool);
  const cpu0 = await processCpuSeconds(env.serve.pid);
  const since = new Date();
  const deadline = Date.now() + SIZES.sustainMs;
  let uploaded = 0;
  await Promise.all(
    env.senders.map(async (s) => {
      const { client, sftp } = await connect(env.serve.sftpPort, s.system.username, s.privateKey);
      try {
        for (let i = 0; Date.now() < deadline; i++) {
          await sendOne(s, sftp, `sus-${i}-${randomBytes(3).toString('hex')}.csv`);
          uploaded++;
        }
      } finally {
        client.end();
      }
    }),
  );
  const uploadSeconds = (Date.now() - since.getTime()) / 1000;
  for (let i = 0; i < 1200 && (await finishedSince(env.pool, since, true)) > 0; i++) await sleep(250);
  const rate = await deliveredRate(env.pool, since);
  const l = await latencies(env.pool, since);
  const commits = (await xactCommits(env.pool)) - commitsBefore;
  const cpu = (await processCpuSeconds(env.serve.pid)) - cpu0;
  return {
    serveCpuMsPerTransfer: round1((cpu * 1000) / Math.max(1, rate.delivered)),
    postgresCommitsPerTransfer: round1(commits / Math.max(1, rate.delivered)),
    uploaded,
    delivered: rate.delivered,
    uploadFilesPerSecond: round1(uploaded / uploadSeconds),
    deliveredFilesPerSecond: rate.filesPerSecond,
    latencyUnderLoadMs: { p50: round1(percentile(l, 50)), p99: round1(percentile(l, 99)) },
  };
}

/** Triggers (with their files) laid into every OUT while serve is stopped, then serve started. */
async function measureRouterDrain(env: Env, files: number): Promise<object> {
  await env.serve.stop();
  const content = randomBytes(1024);
  for (let i = 0; i < files; i++) {
    const s = env.senders[i % env.senders.length]!;
    const out = join(env.world.dataDir, 'homes', s.system.username, 'OUT');
    const name = `drain-${i}.csv`;
    await writeFile(join(out, name), content);
    await writeFile(join(out, `${name}.trigger`), triggerFor(s, name, content.length));
  }
  const since = new Date();
  const commits0 = await xactCommits(env.pool);
  await restartServe(env);
  // How long an operator waits for the node to answer /readyz (and SFTP) over this backlog.
  const readyMs = Date.now() - since.getTime();
  for (let i = 0; i < 2400 && (await finishedSince(env.pool, since)) < files; i++) await sleep(250);
  const rate = await deliveredRate(env.pool, since);
  // This serve was started for the drain: all its CPU (its start included, ~1 s) is the drain's.
  const cpu = await processCpuSeconds(env.serve.pid);
  return {
    files,
    readyMs,
    ...rate,
    serveCpuMsPerTransfer: round1((cpu * 1000) / Math.max(1, rate.delivered)),
    postgresCommitsPerTransfer: round1(((await xactCommits(env.pool)) - commits0) / Math.max(1, rate.delivered)),
  };
}

async function measureBigFile(env: Env): Promise<object> {
  const s = env.senders[0]!;
  const homes = join(env.world.dataDir, 'homes');
  const out = join(homes, s.system.username, 'OUT');
  const name = 'big.bin';
  // Written under a hidden name, then renamed in: complete under its real name at once.
  const temp = join(out, '.big.bin.writing');
  const hash = createHash('sha256');
  const ws = createWriteStream(temp);
  const chunk = randomBytes(8 * MiB);
  for (let written = 0; written < BIG_BYTES; ) {
    const part = chunk.subarray(0, Math.min(chunk.length, BIG_BYTES - written));
    hash.update(part);
    written += part.length;
    if (!ws.write(part)) await new Promise<void>((r) => ws.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => (ws.on('error', reject), ws.end(() => resolve())));
  await rename(temp, join(out, name));
  const { ino } = await stat(join(out, name));
  await writeFile(join(out, '.big.trigger.writing'), triggerFor(s, name, BIG_BYTES));
  const t0 = Date.now();
  await rename(join(out, '.big.trigger.writing'), join(out, `${name}.trigger`));
  const receipt = join(homes, s.system.username, 'IN', `${name}.sftpreceipt`);
  for (let i = 0; i < 3000 && !(await stat(receipt).then(() => true, () => false)); i++) await sleep(20);
  const total = Date.now() - t0;
  // The receipt is renamed in just before the statement that records the delivery (deliver-step.ts):
  // wait for this transfer's record, not for any transfer finished meanwhile (the sustained run's last).
  const recorded = async () =>
    (await env.pool.query(`SELECT 1 FROM transfers WHERE trigger_name = 'big.bin.trigger' AND finished_at IS NOT NULL`)).rowCount === 1;
  for (let i = 0; i < 100 && !(await recorded()); i++) await sleep(50);
  const { rows } = await env.pool.query<{ step: string; at: Date }>(
    `SELECT s.step, s.at FROM transfer_steps s JOIN transfers t ON t.id = s.transfer_id WHERE t.trigger_name = 'big.bin.trigger' ORDER BY s.at`,
  );
  const at = (step: string) => rows.find((r) => r.step === step)?.at.getTime();
  const { rows: d } = await env.pool.query<{ metadata_at: Date }>(`SELECT d.metadata_at FROM deliveries d JOIN transfers t ON t.id = d.transfer_id WHERE t.trigger_name = 'big.bin.trigger'`);
  const hashed = at('hashed');
  const taken = at('file-taken');
  const lastMetadata = Math.max(...d.map((r) => r.metadata_at.getTime()));
  const delivered = await stat(join(homes, env.recipient.username, 'IN', '0751', name)).catch(() => undefined);
  const sha256 = (await env.pool.query<{ sha256: string }>(`SELECT sha256 FROM transfers WHERE trigger_name = 'big.bin.trigger'`)).rows[0]?.sha256;
  return {
    bytes: BIG_BYTES,
    triggerToReceiptMs: total,
    checksumMs: hashed !== undefined && taken !== undefined ? hashed - taken : undefined,
    checksumToLastMetadataMs: hashed !== undefined ? lastMetadata - hashed : undefined,
    hardLinked: delivered?.ino === ino,
    deliveredSha256Matches: hash.digest('hex') === sha256,
  };
}
