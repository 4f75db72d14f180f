/**
 * Faults under load (operations item 6), PostgreSQL: a private cluster (initdb'd in a temporary
 * folder, never the machine's shared server) is restarted (`pg_ctl stop -m fast`, as `systemctl
 * restart postgresql` does; OPS_PG_STOP_MODE=immediate makes it a crash) and comes back
 * while 10 senders upload. The queue is on that same PostgreSQL (the default backend), so routing
 * and the queue are both gone for the outage. New logins fail fast, nothing hangs, and afterwards
 * every accepted transfer is delivered exactly once or rejected with a receipt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startServe } from './helpers/cli.js';
import { migrated } from './helpers/factories.js';
import { arrangeExchange, haltAllSenders, connectSftp, LoadSender, settle, type Refusal, readyz, totalAccepted } from './helpers/ops-load.js';
import { sleep, waitUntil } from './helpers/wait.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/ops-services.js';
import { testLog } from './helpers/test-log.js';

/** How PostgreSQL goes away: OPS_PG_STOP_MODE=immediate for a crash; fast is a `systemctl restart`. */
const MODE = (process.env.OPS_PG_STOP_MODE ?? 'fast') as 'fast' | 'immediate';
const summary = (refusals: Refusal[]) => [...new Set(refusals.map((r) => `${r.stage}: ${r.message.replace(/\/OUT\/\S+/g, '/OUT/…')}`))].slice(0, 4).join(' | ');

describe('PostgreSQL (database and queue) goes away and comes back while 10 senders upload', () => {
  let cluster: PrivatePostgres;
  let pool: pg.Pool;
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startServe>> | undefined;

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    pool = new pg.Pool({ connectionString: cluster.url, max: 3 });
    pool.on('error', () => undefined);
    await migrated(pool);
    dataDir = await mkdtemp(join(tmpdir(), 'fu-ops-fault-pg-'));
  }, 120_000);
  afterAll(async () => {
    haltAllSenders();
    if (server && server.child.exitCode === null) await server.stop('SIGKILL');
    await pool.end().catch(() => undefined);
    await cluster.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logins fail fast during the outage, nothing hangs; afterwards every accepted transfer is delivered once', async () => {
    const x = await arrangeExchange(pool, dataDir, 10, 'fp');
    const env = {
      DATABASE_URL: cluster.url,
      FILUDVEKSLING_DATA: dataDir,
      HTTP_PORT: String(await freePort()),
      SFTP_PORT: String(await freePort()),
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      FILUDVEKSLING_ROUTER_BACKOFF_MS: '500',
    };
    server = await startServe(env, [], 90_000);
    const port = Number(env.SFTP_PORT);
    const senders = x.senders.map((s) => new LoadSender(s, x.infrefs.get(s.username)!, [port], { fileBytes: 16_384, pauseMs: 50, requestTimeoutMs: 20_000 }));
    let stop = false;
    const runs = senders.map((s) => s.run({ until: () => stop }));
    await waitUntil('20 accepted transfers', () => totalAccepted(senders) >= 20, 60_000, 50);

    const before = totalAccepted(senders);
    const t0 = Date.now();
    await cluster.stop(MODE);
    await sleep(1000);
    const tl = Date.now();
    const login = await connectSftp(port, x.senders[0]!.username, x.senders[0]!.privateKey, 20_000).then(
      (c) => (c.client.end(), 'logged in'),
      (err: Error) => err.message,
    );
    const loginMs = Date.now() - tl;
    const readyDuring = await readyz(env.HTTP_PORT);
    await sleep(3000);
    const duringAccepted = totalAccepted(senders) - before;
    await cluster.start();
    const outageMs = Date.now() - t0;
    await sleep(3000);
    stop = true;
    await Promise.all(runs);

    const accepted = senders.flatMap((s) => s.accepted);
    const refusals = senders.flatMap((s) => s.refusals);
    const srv = server;
    const report = await settle(x, dataDir, pool, accepted, 100_000).finally(() => testLog(`serve's output:\n${srv.output()}`));
    const settledMs = Date.now() - t0;
    const alive = server.child.exitCode === null;
    testLog(
      `ops-faults (PostgreSQL down for ${outageMs} ms): a new login during the outage: '${login}' after ${loginMs} ms; /readyz: ${readyDuring}; ` +
        `${accepted.length} accepted, ${duringAccepted} during the outage; ${refusals.length} refused (${summary(refusals)}); ` +
        `all settled ${settledMs} ms after the crash; ${report.delivered} delivered, rejected ${JSON.stringify(report.rejected)}; server still running: ${alive}`,
    );
    expect(alive).toBe(true);
    expect(login).toMatch(/authentication methods failed/i);
    expect(loginMs).toBeLessThan(10_000);
    expect(readyDuring).toMatch(/^503/);
    expect(refusals.filter((r) => r.ms >= 20_000)).toEqual([]); // no SFTP request hung
    expect(report.problems).toEqual([]);
    expect(report.delivered).toBe(accepted.length);
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  }, 170_000);
});
