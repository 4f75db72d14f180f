/**
 * Faults under load (operations item 6), Redis and disk: 10 senders upload and trigger over SFTP
 * while the queue's Redis is killed and restarted, or while the data folder's disk is full. During
 * the fault no request hangs (it succeeds or fails with a clear SFTP error); afterwards every
 * accepted transfer is delivered exactly once or rejected with a receipt, and nothing routable or
 * half-written is left. What was observed is printed (`ops-faults: …`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './helpers/database.js';
import { migrated } from './helpers/factories.js';
import { arrangeExchange, haltAllSenders, LoadSender, settle, type Refusal, readyz, totalAccepted } from './helpers/ops-load.js';
import { sleep, waitUntil } from './helpers/wait.js';
import { dropRedisPrefix, mountSmallDisk, startPrivateRedis, type PrivateRedis, type SmallDisk } from './helpers/ops-services.js';
import { testLog } from './helpers/test-log.js';

const summary = (refusals: Refusal[]) => [...new Set(refusals.map((r) => `${r.stage}: ${r.message.replace(/\/OUT\/\S+/g, '/OUT/…')}`))].slice(0, 4).join(' | ');

describe('Redis (the queue) is killed and restarted while 10 senders upload', () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startServe>> | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = await createTestDatabase('ops_fault_redis');
    await migrated(db.pool);
    dataDir = await mkdtemp(join(tmpdir(), 'fu-ops-fault-redis-'));
  });
  afterAll(async () => {
    haltAllSenders();
    if (server && server.child.exitCode === null) await server.stop('SIGKILL');
    await redis.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uploads go on, routing resumes after the restart, every accepted transfer is delivered once', async () => {
    const x = await arrangeExchange(db.pool, dataDir, 10, 'fr');
    const env = {
      DATABASE_URL: db.url,
      FILUDVEKSLING_DATA: dataDir,
      HTTP_PORT: String(await freePort()),
      SFTP_PORT: String(await freePort()),
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      FILUDVEKSLING_QUEUE_PREFIX: `fu-ops-fault-${randomBytes(4).toString('hex')}`,
      FILUDVEKSLING_ROUTER_BACKOFF_MS: '500',
      FILUDVEKSLING_DRAIN_MS: '3000',
    };
    server = await startServe(env, [], 90_000);
    const senders = x.senders.map((s) => new LoadSender(s, x.infrefs.get(s.username)!, [Number(env.SFTP_PORT)], { fileBytes: 16_384, pauseMs: 50, requestTimeoutMs: 20_000 }));
    let stop = false;
    const runs = senders.map((s) => s.run({ until: () => stop }));
    await waitUntil('20 accepted transfers', () => totalAccepted(senders) >= 20, 60_000, 50);

    const before = totalAccepted(senders);
    const t0 = Date.now();
    await redis.kill();
    await sleep(1500);
    const readyDuring = await readyz(env.HTTP_PORT);
    await sleep(2500);
    const duringAccepted = totalAccepted(senders) - before;
    await redis.start();
    const outageMs = Date.now() - t0;
    await sleep(3000);
    stop = true;
    await Promise.all(runs);

    const accepted = senders.flatMap((s) => s.accepted);
    const refusals = senders.flatMap((s) => s.refusals);
    const report = await settle(x, dataDir, db.pool, accepted, 90_000);
    const settledMs = Date.now() - t0;
    testLog(
      `ops-faults (Redis killed for ${outageMs} ms): ${accepted.length} accepted, ${duringAccepted} of them during the outage; ` +
        `${refusals.length} refused (${summary(refusals)}); /readyz during the outage: ${readyDuring}; ` +
        `all delivered ${settledMs} ms after the kill; ${report.delivered} delivered, rejected ${JSON.stringify(report.rejected)}`,
    );
    expect(readyDuring).toMatch(/^503/);
    // SFTP does not need the queue: uploads went on during the outage.
    expect(duringAccepted).toBeGreaterThan(0);
    expect(refusals.filter((r) => r.ms >= 20_000)).toEqual([]); // no SFTP request hung
    expect(report.problems).toEqual([]);
    expect(report.delivered).toBe(accepted.length);

    // A node told to stop while Redis is away still stops (parts stuck on Redis are given up on).
    await redis.kill();
    const t1 = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    const stopMs = Date.now() - t1;
    testLog(`ops-faults: SIGTERM while Redis was down: stopped in ${stopMs} ms (FILUDVEKSLING_DRAIN_MS=3000)`);
    expect(stopMs).toBeLessThan(3 * (3000 + 10_000));
    expect(server.output()).toMatch(/did not stop within|did not close within/);
    server = undefined;
  }, 150_000);
});

describe('the data folder runs out of disk space while 10 senders upload', () => {
  let disk: SmallDisk;
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  const prefix = `fu-ops-disk-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    disk = await mountSmallDisk('24m');
    db = await createTestDatabase('ops_fault_disk');
    await migrated(db.pool);
  });
  afterAll(async () => {
    haltAllSenders();
    if (server && server.child.exitCode === null) await server.stop('SIGKILL');
    await db.drop();
    await disk.close();
    await dropRedisPrefix(REDIS_URL, prefix);
  });

  it('uploads fail with "out of disk space" (no hang); once the disk grows, every accepted transfer is delivered once', async () => {
    const dataDir = disk.dir;
    const x = await arrangeExchange(db.pool, dataDir, 10, 'fd');
    const env = {
      DATABASE_URL: db.url,
      FILUDVEKSLING_DATA: dataDir,
      HTTP_PORT: String(await freePort()),
      SFTP_PORT: String(await freePort()),
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL,
      FILUDVEKSLING_QUEUE_PREFIX: prefix,
      FILUDVEKSLING_ROUTER_BACKOFF_MS: '500',
    };
    server = await startServe(env, [], 90_000);
    const senders = x.senders.map((s) => new LoadSender(s, x.infrefs.get(s.username)!, [Number(env.SFTP_PORT)], { fileBytes: 256 * 1024, pauseMs: 20, requestTimeoutMs: 20_000 }));
    let stop = false;
    const runs = senders.map((s) => s.run({ until: () => stop }));
    const t0 = Date.now();
    const full = await waitUntil('an upload refused for lack of space', () => senders.flatMap((s) => s.refusals).find((r) => /disk space/.test(r.message)), 60_000, 50);
    const fullAt = Date.now();
    const acceptedAtFull = totalAccepted(senders);
    await sleep(3000);
    const refusalsWhileFull = senders.flatMap((s) => s.refusals).filter((r) => r.at >= fullAt - 1000);
    const acceptedWhileFull = totalAccepted(senders) - acceptedAtFull;
    await disk.grow('256m');
    const grownAt = Date.now();
    await waitUntil('transfers accepted again after the disk grew', () => senders.some((s) => s.accepted.some((a) => a.at > grownAt)), 30_000, 50);
    await sleep(2000);
    stop = true;
    await Promise.all(runs);

    const accepted = senders.flatMap((s) => s.accepted);
    const refusals = senders.flatMap((s) => s.refusals);
    const report = await settle(x, dataDir, db.pool, accepted, 90_000);
    testLog(
      `ops-faults (24 MiB disk full after ${fullAt - t0} ms, ${acceptedAtFull} accepted by then): first refusal '${full.message}'; ` +
        `${refusalsWhileFull.length} refused and ${acceptedWhileFull} accepted in the 3 s while full (${summary(refusalsWhileFull)}); ` +
        `slowest refusal ${Math.max(...refusals.map((r) => r.ms))} ms; after growing the disk: ${accepted.length} accepted in all, ` +
        `${report.delivered} delivered, rejected ${JSON.stringify(report.rejected)}`,
    );
    expect(full.message).toMatch(/out of disk space; \/OUT\/\S+ was not written/);
    expect(refusals.filter((r) => r.ms >= 20_000 || !/disk space|could not complete|No response|closed/.test(r.message))).toEqual([]);
    expect(report.problems).toEqual([]);
    // Accepted while the disk was full means the server had the bytes; it must deliver them (or say why).
    expect(report.delivered + Object.values(report.rejected).reduce((a, b) => a + b, 0)).toBe(accepted.length);
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  }, 150_000);
});
