import { randomBytes } from 'node:crypto';
import { log } from '../log.js';
import { settlesWithin } from '../operations/drain.js';
import type { ComponentFactory } from '../serve/component.js';
import { startTriggerIntake } from './intake/trigger-intake.js';
import { UploadHashCache } from './intake/upload-hash-cache.js';
import { routingProcessor } from './routing-processor.js';
import { openRoutingQueue, openRoutingWorker, queueBackend, retryPolicy, submitMany, type RoutingWorker } from './routing-queue.js';
import { tightenDataFolders } from '../storage/homes.js';
import { clearFinishedSpool } from './spool.js';
import { unfinishedTransfers } from './sql/unfinished-transfers.js';
import { sweepStalled, SWEEP_EVERY_MS } from './sweep.js';


/**
 * Routing on a serve node. Every role queues triggers; what else runs depends on it:
 * - `all`:    upload events + watcher + start scan + router workers + resume/sweep;
 * - `sftp`:   upload events only (its uploads go to the queue at once; routers do the rest);
 * - `router`: watcher + start scan + router workers + resume/sweep (sees other nodes' uploads on
 *             the shared data folder through the watcher).
 */
export const routerComponent: ComponentFactory = async ({ config, database, role }) => {
  // A portal node takes no uploads and routes nothing (a retry from the portal is picked up by a router).
  if (role === 'portal') return undefined;
  const backend = queueBackend(config, database.url);
  const queue = openRoutingQueue(backend, retryPolicy(config));
  // Without a listener BullMQ prints these errors raw on stderr (Redis or PostgreSQL away).
  queue.on('error', (err) => log.warn({ op: 'route', err: err.message }, `routing queue error: ${err.message}`));
  await queue.waitUntilReady();
  const routes = role === 'all' || role === 'router';
  const hashes = new UploadHashCache();
  const deps = { dataDir: config.dataDir, env: config.env, hashes };

  let worker: RoutingWorker | undefined;
  let sweep: NodeJS.Timeout | undefined;
  if (routes) {
    worker = openRoutingWorker(backend, routingProcessor(deps, database.pool), config.routerConcurrency);
    worker.on('error', (err) => log.error({ op: 'route', err }, 'router worker error'));
    await worker.waitUntilReady();
    await tightenDataFolders(config.dataDir);
    const cleared = await clearFinishedSpool(config.dataDir, database.pool);
    if (cleared > 0) log.info({ op: 'route', cleared }, 'cleared the spool folders of finished transfers');
    // Transfers a node left unfinished (killed mid-way): a fresh job each, under this boot's id.
    const boot = randomBytes(4).toString('hex');
    const resume = await unfinishedTransfers(database.pool);
    await submitMany(queue, resume.map(({ id }) => ({ data: { kind: 'transfer', transferId: id }, jobId: `resume-${id}-${boot}` })));
    if (resume.length > 0) log.info({ op: 'route', count: resume.length }, 'resuming unfinished transfers');
    sweep = setInterval(() => {
      sweepStalled(queue, database.pool)
        .then((ids) => ids.length > 0 && log.info({ op: 'route', count: ids.length }, 'sweep: queued transfers no job was carrying'))
        .catch((err: unknown) => log.warn({ op: 'route', err }, 'sweep for stalled transfers failed'));
    }, SWEEP_EVERY_MS);
    sweep.unref();
  }
  const intake = await startTriggerIntake({ queue, dataDir: config.dataDir, hashes, events: role !== 'router', watch: routes });
  log.info({ op: 'route', queue: backend.kind, concurrency: routes ? config.routerConcurrency : 0 }, `routing queue on ${backend.kind}`);

  return {
    name: 'router',
    readiness: {
      queue: async () => {
        await queue.getJobCounts('waiting');
      },
    },
    async stop() {
      if (sweep) clearInterval(sweep);
      await intake.stop();
      // Jobs in flight finish (each ends in a recorded state); waiting jobs stay in the queue for
      // the next router. A job still running after the drain timeout is left: its lock lapses and
      // its transfer is taken up where it stopped (resume at the next start, or another node).
      if (worker && !(await settlesWithin(worker.close(), config.drainMs))) {
        log.warn({ op: 'route', drainMs: config.drainMs }, 'the router workers did not close within the drain timeout (jobs still running, or the queue unreachable); stopping without them (their transfers resume where they stopped)');
      }
      if (!(await settlesWithin(queue.close(), 5000))) log.warn({ op: 'route' }, 'the routing queue did not close within 5 s (its Redis or PostgreSQL unreachable?); going on');
    },
  };
};
