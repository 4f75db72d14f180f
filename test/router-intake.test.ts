import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { startTriggerIntake } from '../src/router/intake/trigger-intake.js';
import { UploadHashCache } from '../src/router/intake/upload-hash-cache.js';
import { openRoutingQueue, queueBackend, retryPolicy, type RoutingQueue } from '../src/router/routing-queue.js';
import { freePort } from './helpers/cli.js';
import { REDIS_URL } from './helpers/database.js';
import { dropRedisPrefix } from './helpers/ops-services.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Restarting a node over a backlog (issue 11): thousands of triggers waiting in the OUT folders are
 * queued behind the start, in batches, each once. No router runs here: the queue holds the jobs.
 */
describe('trigger intake over a backlog in OUT', () => {
  let dataDir: string;
  const prefix = `fu-intake-${randomBytes(4).toString('hex')}`;
  const queues: RoutingQueue[] = [];
  const open = (redisUrl: string): RoutingQueue => {
    const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused', FILUDVEKSLING_DATA: dataDir, REDIS_URL: redisUrl, FILUDVEKSLING_QUEUE_PREFIX: prefix });
    const queue = openRoutingQueue(queueBackend(config, config.databaseUrl ?? ''), retryPolicy(config));
    queue.on('error', () => undefined); // the unreachable one reports its connection errors here
    queues.push(queue);
    return queue;
  };
  /** `perUser` triggers (and nothing else) in the OUT of each of `users` systems. */
  const layBacklog = async (users: number, perUser: number): Promise<void> => {
    for (let u = 0; u < users; u++) {
      const out = join(dataDir, 'homes', `afsender-${u}`, 'OUT');
      await mkdir(out, { recursive: true });
      await Promise.all(Array.from({ length: perUser }, (_, i) => writeFile(join(out, `f-${i}.csv.trigger`), `<t n="${i}"/>`)));
    }
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fu-intake-'));
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close();
    await dropRedisPrefix(REDIS_URL, prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('queues every waiting trigger once: the rescans after the start scan add no second job for a trigger still waiting', async () => {
    await layBacklog(3, 400);
    const queue = open(REDIS_URL);
    const intake = await startTriggerIntake({ queue, dataDir, hashes: new UploadHashCache(), events: false, watch: true, rescanEveryMs: 3_600_000 });
    try {
      await waitUntil('the start scan queued all 1,200', async () => (await queue.getJobCounts('waiting')).waiting === 1200, 30_000);
      expect(await intake.scan()).toBe(1200); // what the periodic rescan does
      expect(await intake.scan()).toBe(1200);
      expect((await queue.getJobCounts('waiting')).waiting).toBe(1200);
      const keys = new Set((await queue.getWaiting(0, 2000)).map((j) => (j.data as { key: string }).key));
      expect(keys.size).toBe(1200);
    } finally {
      await intake.stop();
    }
  });

  it('starts without waiting for the start scan to queue the backlog (here the queue cannot be reached at all)', async () => {
    await layBacklog(1, 50);
    const queue = open(`redis://127.0.0.1:${await freePort()}`);
    const intake = await startTriggerIntake({ queue, dataDir, hashes: new UploadHashCache(), events: false, watch: true, rescanEveryMs: 3_600_000 });
    await intake.stop();
  });
});
