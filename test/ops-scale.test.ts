/**
 * Scale-out (operations item 5): two `serve --role sftp` and two `serve --role router` processes
 * share one PostgreSQL, one queue (Redis with its own key prefix, or PostgreSQL) and one data
 * folder. Senders spread over both SFTP nodes; every file is delivered exactly once and every
 * receipt written, whichever router took it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './helpers/database.js';
import { migrated } from './helpers/factories.js';
import { arrangeExchange, haltAllSenders, LoadSender, settle } from './helpers/ops-load.js';
import { dropRedisPrefix } from './helpers/ops-services.js';
import { testLog } from './helpers/test-log.js';

type Node = Awaited<ReturnType<typeof startServe>> & { role: string; httpPort: number; sftpPort: number };

async function metric(node: Node, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

const cases: Array<{ backend: 'redis' | 'postgres'; senders: number; each: number }> = [
  { backend: 'redis', senders: 20, each: 50 },
  { backend: 'postgres', senders: 20, each: 15 },
];

describe.each(cases)('scale-out: 2 SFTP nodes + 2 router nodes, queue on $backend', ({ backend, senders: nSenders, each }) => {
  let db: TestDatabase;
  let dataDir: string;
  const nodes: Node[] = [];
  const prefix = `fu-ops-scale-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase(`ops_scale_${backend}`);
    await migrated(db.pool);
    dataDir = await mkdtemp(join(tmpdir(), `fu-ops-scale-${backend}-`));
  });
  afterAll(async () => {
    haltAllSenders();
    await Promise.all(nodes.filter((n) => n.child.exitCode === null).map((n) => n.stop('SIGKILL')));
    await db.drop();
    if (backend === 'redis') await dropRedisPrefix(REDIS_URL, prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`${nSenders * each} triggers from ${nSenders} senders: each file delivered exactly once, every receipt written`, async () => {
    const x = await arrangeExchange(db.pool, dataDir, nSenders, `sc${backend[0]}`);
    const shared: Record<string, string> = {
      DATABASE_URL: db.url,
      FILUDVEKSLING_DATA: dataDir,
      SFTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ROUTER_CONCURRENCY: '8',
      ...(backend === 'redis' ? { REDIS_URL, FILUDVEKSLING_QUEUE_PREFIX: prefix } : {}),
    };
    const start = async (role: string) => {
      const httpPort = await freePort();
      const sftpPort = await freePort();
      const s = await startServe({ ...shared, HTTP_PORT: String(httpPort), SFTP_PORT: String(sftpPort) }, ['--role', role], 90_000);
      const node = Object.assign(s, { role, httpPort, sftpPort });
      nodes.push(node);
      return node;
    };
    // Routers first (one at a time: both migrate under the advisory lock anyway), then the SFTP nodes.
    const routers = [await start('router'), await start('router')];
    const sftps = await Promise.all([start('sftp'), start('sftp')]);
    const ports = sftps.map((n) => n.sftpPort);

    const senders = x.senders.map((s, i) => new LoadSender(s, x.infrefs.get(s.username)!, i % 2 === 0 ? ports : [...ports].reverse(), { fileBytes: 2048, max: each }));
    const t0 = Date.now();
    await Promise.all(senders.map((s) => s.run({ until: () => false })));
    const uploadMs = Date.now() - t0;
    const accepted = senders.flatMap((s) => s.accepted);
    expect(senders.flatMap((s) => s.refusals)).toEqual([]);
    expect(accepted).toHaveLength(nSenders * each);

    const report = await settle(x, dataDir, db.pool, accepted, 150_000);
    expect(report.problems).toEqual([]);
    expect(report.delivered).toBe(nSenders * each);
    expect(report.extraDeliveries).toBe(0);
    const doneMs = report.spanMs;

    // Both SFTP nodes took uploads and both routers routed.
    const uploads = sftps.map((n) => accepted.filter((a) => a.port === n.sftpPort).length);
    const routed = await Promise.all(routers.map((n) => metric(n, 'filudveksling_transfers_total')));
    expect(uploads).toEqual([(nSenders * each) / 2, (nSenders * each) / 2]);
    expect(routed.every((r) => r > 0)).toBe(true);
    expect(routed.reduce((a, b) => a + b, 0)).toBe(nSenders * each);

    testLog(
      `ops-scale (${backend}): ${accepted.length} transfers from ${nSenders} senders; uploads took ${uploadMs} ms ` +
        `(${Math.round((accepted.length * 1000) / uploadMs)}/s), last receipt after ${doneMs} ms ` +
        `(${Math.round((accepted.length * 1000) / doneMs)} transfers/s end to end); transfers per SFTP node ${uploads.join('/')}, routed per router ${routed.join('/')}`,
    );

    for (const n of [...sftps, ...routers]) expect(await n.stop('SIGTERM')).toBe(0);
  }, 240_000);
});
