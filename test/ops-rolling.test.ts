/**
 * A rolling restart (graceful shutdown on a scaled-out cluster): two SFTP nodes and two routers
 * share one database, one Redis queue and one data folder; while 10 senders upload and trigger,
 * one SFTP node and one router get SIGTERM together (and are started again afterwards). Senders cut off on the
 * stopping node are told why and carry on through the other node; the stopping router finishes its
 * jobs in flight and leaves the queue to the other; every accepted transfer is delivered once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './helpers/database.js';
import { migrated } from './helpers/factories.js';
import { arrangeExchange, haltAllSenders, LoadSender, settle } from './helpers/ops-load.js';
import { sleep, waitUntil } from './helpers/wait.js';
import { dropRedisPrefix } from './helpers/ops-services.js';
import { testLog } from './helpers/test-log.js';

const DRAIN_MS = 5000;
type Node = Awaited<ReturnType<typeof startServe>>;

describe('rolling restart of one SFTP node and one router under load', () => {
  let db: TestDatabase;
  let dataDir: string;
  const running: Node[] = [];
  const prefix = `fu-ops-rolling-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase('ops_rolling');
    await migrated(db.pool);
    dataDir = await mkdtemp(join(tmpdir(), 'fu-ops-rolling-'));
  });
  afterAll(async () => {
    haltAllSenders();
    await Promise.all(running.filter((n) => n.child.exitCode === null).map((n) => n.stop('SIGKILL')));
    await db.drop();
    await dropRedisPrefix(REDIS_URL, prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('senders move to the other SFTP node, the other router takes the queue, every accepted transfer is delivered once', async () => {
    const x = await arrangeExchange(db.pool, dataDir, 10, 'rr');
    const shared = {
      DATABASE_URL: db.url,
      FILUDVEKSLING_DATA: dataDir,
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      REDIS_URL,
      FILUDVEKSLING_QUEUE_PREFIX: prefix,
      FILUDVEKSLING_DRAIN_MS: String(DRAIN_MS),
      ROUTER_CONCURRENCY: '4',
    };
    const envs = await Promise.all(
      ['sftp', 'sftp', 'router', 'router'].map(async (role) => ({ role, env: { ...shared, HTTP_PORT: String(await freePort()), SFTP_PORT: String(await freePort()) } })),
    );
    const start = async (i: number) => {
      const n = await startServe(envs[i]!.env, ['--role', envs[i]!.role], 120_000);
      running.push(n);
      return n;
    };
    const nodes: Node[] = [];
    for (let i = 0; i < 4; i++) nodes.push(await start(i));
    const [portA, portB] = [Number(envs[0]!.env.SFTP_PORT), Number(envs[1]!.env.SFTP_PORT)];

    const senders = x.senders.map((s, i) => new LoadSender(s, x.infrefs.get(s.username)!, i % 2 === 0 ? [portA, portB] : [portB, portA], { fileBytes: 8192, pauseMs: 150, requestTimeoutMs: 20_000 }));
    let stop = false;
    const runs = senders.map((s) => s.run({ until: () => stop }));
    await waitUntil('100 accepted transfers', () => senders.reduce((n, s) => n + s.accepted.length, 0) >= 100, 60_000, 50);

    // SIGTERM the first SFTP node and the first router together.
    const t0 = Date.now();
    const [sftpA, routerA] = [nodes[0]!, nodes[2]!];
    sftpA.child.kill('SIGTERM');
    routerA.child.kill('SIGTERM');
    const [codeSftp, codeRouter] = await Promise.all([sftpA.exited, routerA.exited]);
    const stopMs = Date.now() - t0;
    expect([codeSftp, codeRouter]).toEqual([0, 0]);
    expect(stopMs).toBeLessThan(2 * DRAIN_MS + 10_000);
    const acceptedWhileDown0 = senders.reduce((n, s) => n + s.accepted.length, 0);
    await sleep(2000);
    const acceptedWhileDown = senders.reduce((n, s) => n + s.accepted.length, 0) - acceptedWhileDown0;
    stop = true;
    await Promise.all(runs);
    // Started again once the load has passed (a router that starts with thousands of triggers
    // waiting reports ready only after queueing them all: README, Operations).
    const restarted = [await start(0), await start(2)];

    const accepted = senders.flatMap((s) => s.accepted);
    const refusals = senders.flatMap((s) => s.refusals);
    const report = await settle(x, dataDir, db.pool, accepted, 90_000);
    testLog(
      `ops-rolling: SFTP node + router stopped ${stopMs} ms after SIGTERM (DRAIN_MS=${DRAIN_MS}); ${acceptedWhileDown} accepted by the other node in the 2 s both were down; ` +
        `${accepted.length} accepted in all (${accepted.filter((a) => a.port === portA).length} via node A, ${accepted.filter((a) => a.port === portB).length} via node B), ` +
        `${refusals.length} refused (${[...new Set(refusals.map((r) => r.message.replace(/\/OUT\/\S+/g, '/OUT/…')))].slice(0, 3).join(' | ')}); all delivered once`,
    );
    // The cluster kept taking transfers while the node was down, through the other node.
    expect(acceptedWhileDown).toBeGreaterThan(0);
    expect(refusals.filter((r) => !/shutting down|No response|Not connected|closed|ECONN/i.test(r.message))).toEqual([]);
    expect(sftpA.output()).toMatch(/SFTP stopped/);
    expect(routerA.output()).toMatch(/stopped in \d+ ms/);
    expect(report.problems).toEqual([]);
    expect(report.delivered).toBe(accepted.length);
    expect(report.extraDeliveries).toBeLessThanOrEqual(senders.reduce((n, s) => n + s.uncertain.length, 0));
    for (const n of [...restarted, nodes[1]!, nodes[3]!]) expect(await n.stop('SIGTERM')).toBe(0);
  }, 150_000);
});
