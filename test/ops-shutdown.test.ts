/**
 * Graceful shutdown under load (operations item 4): senders upload and trigger over SFTP while the
 * node (embedded PostgreSQL, queue on it) gets SIGTERM. New logins stop at once, an upload in
 * progress finishes, one that cannot finish within the drain timeout is cut off and leaves nothing,
 * routing jobs in flight finish, the embedded PostgreSQL stops, the process exits 0. After a
 * restart every accepted transfer is delivered exactly once (or rejected with a receipt).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort, startServe } from './helpers/cli.js';
import { arrangeExchange, haltAllSenders, connectSftp, LoadSender, settle, uploadOver, type Exchange } from './helpers/ops-load.js';
import { sleep, waitUntil } from './helpers/wait.js';
import { testLog } from './helpers/test-log.js';

const DRAIN_MS = 6000;
const step = (m: string) => testLog(`[ops-shutdown ${new Date().toISOString()}] ${m}`);

describe('graceful shutdown (SIGTERM while senders upload and trigger)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  let pool: pg.Pool | undefined;

  const openPool = async () => {
    const { url } = JSON.parse(await readFile(join(dataDir, 'run', 'database.json'), 'utf8')) as { url: string };
    const p = new pg.Pool({ connectionString: url, max: 3 });
    p.on('error', () => undefined);
    return p;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fu-ops-shutdown-'));
    env = {
      FILUDVEKSLING_DATA: dataDir,
      HTTP_PORT: String(await freePort()),
      SFTP_PORT: String(await freePort()),
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      FILUDVEKSLING_DRAIN_MS: String(DRAIN_MS),
    };
  });
  afterAll(async () => {
    haltAllSenders();
    await pool?.end().catch(() => undefined);
    if (server && server.child.exitCode === null) await server.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('drains SFTP, finishes routing, stops PostgreSQL; after a restart every accepted transfer is delivered once', async () => {
    server = await startServe(env, [], 120_000);
    const port = Number(env.SFTP_PORT);
    pool = await openPool();
    const x: Exchange = await arrangeExchange(pool, dataDir, 6, 'sd');

    const senders = x.senders.map((s) => new LoadSender(s, x.infrefs.get(s.username)!, [port], { fileBytes: (n) => 8192 + (n % 4) * 60_000, reconnect: false }));
    let stop = false;
    const runs = senders.map((s) => s.run({ until: () => stop }));
    await waitUntil('30 accepted transfers', () => senders.reduce((n, s) => n + s.accepted.length, 0) >= 30, 60_000, 50);

    // An upload that finishes during the drain (~1.5 s of 32 KiB writes), and one that cannot (8 MiB trickling in, ~25 s).
    const owner = x.senders[0]!;
    const finishing = await connectSftp(port, owner.username, owner.privateKey);
    const trickling = await connectSftp(port, owner.username, owner.privateKey);
    const finishingBody = randomBytes(768 * 1024);
    const tf = Date.now();
    let finishingMs = 0;
    const finishingUpload = uploadOver(finishing.sftp, '/OUT/finishing.csv', finishingBody, 20).then(
      () => ((finishingMs = Date.now() - tf), 'ok'),
      (err: Error) => `failed: ${err.message}`,
    );
    const tricklingUpload = uploadOver(trickling.sftp, '/OUT/trickling.csv', randomBytes(8 * 1024 * 1024), 100).then(
      () => 'ok',
      (err: Error) => `failed: ${err.message}`,
    );
    await sleep(300);
    const acceptedBefore = senders.reduce((n, s) => n + s.accepted.length, 0);

    await pool.end();
    pool = undefined;
    const t0 = Date.now();
    server.child.kill('SIGTERM');

    // /readyz says not ready while it drains (a load balancer stops sending clients); it answers,
    // for the drain lasts DRAIN_MS.
    const ready = await waitUntil(
      '/readyz to answer 503 while the node drains',
      () => fetch(`http://127.0.0.1:${env.HTTP_PORT}/readyz`).then(async (r) => r.status === 503 && ((await r.json()) as { checks: Record<string, string> }).checks, () => false),
      2000,
    );
    expect(ready).toMatchObject({ node: 'shutting down' });
    // New logins are refused at once (within a second).
    const late = await waitUntil('a new login to be refused', () =>
      connectSftp(port, owner.username, owner.privateKey, 5000).then(
        (c) => (c.client.end(), false),
        (err: Error) => err.message,
      ),
      1000,
    );
    expect(late).toMatch(/ECONNREFUSED|refused|closed|timed out|no SFTP session/i);

    step('SIGTERM sent; waiting for exit');
    const srv = server;
    const dump = setTimeout(() => testLog(`serve has not exited 30 s after SIGTERM; its output so far:\n${srv.output()}`), 30_000);
    const code = await server.exited;
    clearTimeout(dump);
    step(`exited ${code}`);
    const shutdownMs = Date.now() - t0;
    stop = true;
    await Promise.all(runs);
    step('senders stopped');
    const log = server.output();
    server = undefined;

    expect(code).toBe(0);
    expect(shutdownMs).toBeLessThan(DRAIN_MS + 15_000);
    // The upload in progress finished; the one that could not was cut off with an error, not a hang.
    expect([await finishingUpload, Date.now() - tf]).toEqual(['ok', expect.any(Number)]);
    expect(await tricklingUpload).toMatch(/^failed/);
    finishing.client.end();
    trickling.client.end();
    expect(log).toMatch(/drain timeout: cutting off 1 session/);
    expect(log).toMatch(/embedded PostgreSQL stopped/);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    // Senders were told why their next transfer was refused (or lost the connection at the end).
    const refusals = senders.flatMap((s) => s.refusals);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.filter((r) => !/shutting down|No response|Not connected|closed|ECONN|end/i.test(r.message))).toEqual([]);
    expect(Math.max(...refusals.map((r) => r.ms))).toBeLessThan(DRAIN_MS + 5000);

    // What the cut-off left: nothing. The finished upload is there, complete (no trigger was sent for it).
    const out0 = await readdir(join(dataDir, 'homes', owner.username, 'OUT'));
    expect(out0.filter((f) => f.includes('.fu-upload-') || f.startsWith('trickling'))).toEqual([]);
    expect((await stat(join(dataDir, 'homes', owner.username, 'OUT', 'finishing.csv'))).size).toBe(finishingBody.length);

    // Restart and let it settle.
    server = await startServe(env, [], 120_000);
    pool = await openPool();
    const accepted = senders.flatMap((s) => s.accepted);
    expect(accepted.length).toBeGreaterThanOrEqual(acceptedBefore);
    step('restarted; settling');
    const report = await settle(x, dataDir, pool, accepted, 90_000);
    expect(report.problems).toEqual([]);
    expect(report.delivered).toBe(accepted.length);
    expect(report.extraDeliveries).toBeLessThanOrEqual(senders.reduce((n, s) => n + s.uncertain.length, 0));

    testLog(
      `ops-shutdown: ${accepted.length} accepted (${acceptedBefore} before SIGTERM), ${refusals.length} refused during the drain, ` +
        `shutdown ${shutdownMs} ms with DRAIN_MS=${DRAIN_MS} (the upload in progress took ${finishingMs} ms), all delivered once after restart`,
    );
    await pool.end();
    pool = undefined;
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  }, 180_000);
});
