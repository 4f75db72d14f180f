import { Queue, Worker, createPostgresBackend, withBackend } from 'bullmq';
import { log } from '../log.js';
import { queueBackend, type QueueBackend } from '../router/routing-queue.js';
import type { ComponentFactory } from '../serve/component.js';
import { runRetention } from './retention.js';

const MAINTENANCE_QUEUE = 'maintenance';

const OnPostgres = withBackend(createPostgresBackend);

/**
 * Retention as a scheduled BullMQ job on the routing queue's backend: the job scheduler makes one
 * run per period across the whole cluster, whichever router node takes it.
 */
export const retentionSchedule: ComponentFactory = async ({ config, database, role }) => {
  if (role === 'sftp' || role === 'portal') return undefined;
  const backend = queueBackend(config, database.url);
  const queue = openQueue(backend);
  await queue.upsertJobScheduler('retention', { every: config.retentionEveryMs }, { name: 'retention', opts: { removeOnComplete: 100, removeOnFail: 100 } });
  const worker = openWorker(backend, async () =>
    runRetention({ pool: database.pool, dataDir: config.dataDir, retentionDays: config.retentionDays }),
  );
  worker.on('failed', (_job, err) => log.error({ op: 'retention', err }, 'retention run failed; it runs again at the next period'));
  // Without listeners BullMQ prints these raw on stderr while Redis or PostgreSQL is away.
  queue.on('error', (err) => log.warn({ op: 'retention', err: err.message }, `maintenance queue error: ${err.message}`));
  worker.on('error', (err) => log.warn({ op: 'retention', err: err.message }, `maintenance worker error: ${err.message}`));
  log.info({ op: 'retention', everyMs: config.retentionEveryMs, retentionDays: config.retentionDays }, 'retention scheduled');
  return {
    name: 'retention',
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
};

function openQueue(backend: QueueBackend): Queue {
  if (backend.kind === 'redis') {
    return new Queue(MAINTENANCE_QUEUE, { connection: { url: backend.redisUrl, maxRetriesPerRequest: null }, prefix: backend.prefix });
  }
  return new OnPostgres.Queue(MAINTENANCE_QUEUE, { connection: { connectionString: backend.databaseUrl, migrate: true, max: 2 } }) as unknown as Queue;
}

function openWorker(backend: QueueBackend, fn: () => Promise<unknown>): Worker {
  if (backend.kind === 'redis') {
    return new Worker(MAINTENANCE_QUEUE, fn, { connection: { url: backend.redisUrl, maxRetriesPerRequest: null }, prefix: backend.prefix, concurrency: 1 });
  }
  return new OnPostgres.Worker(MAINTENANCE_QUEUE, fn as never, { connection: { connectionString: backend.databaseUrl, migrate: true, max: 2 }, concurrency: 1 }) as unknown as Worker;
}
