import { Queue, Worker, createPostgresBackend, withBackend, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { Config } from '../config/config.js';

/** The one queue the router works from. A job only says "look at this trigger / transfer". */
export const ROUTING_QUEUE = 'routing';

export type RoutingJob =
  /** A *.trigger seen in a system's OUT (upload event, watcher or start scan). */
  | { kind: 'trigger'; username: string; triggerName: string; key: string; closedAt: number }
  /** A transfer already recorded (resumed after a restart, or retried by the operator). */
  | { kind: 'transfer'; transferId: string };

export type RoutingQueue = Queue<RoutingJob>;
export type RoutingWorker = Worker<RoutingJob>;
export type RoutingProcessor = (job: Job<RoutingJob>, token?: string) => Promise<void>;

/** Where the queue lives: PostgreSQL (the transfers database) by default, Redis when REDIS_URL is set. */
export interface QueueBackend {
  kind: 'postgres' | 'redis';
  databaseUrl: string;
  redisUrl?: string;
  /** Redis key prefix, so several deployments (or test files) can share one Redis. */
  prefix: string;
}

export function queueBackend(config: Config, databaseUrl: string): QueueBackend {
  const prefix = config.queuePrefix;
  return config.redisUrl ? { kind: 'redis', databaseUrl, redisUrl: config.redisUrl, prefix } : { kind: 'postgres', databaseUrl, prefix };
}

export type RetryPolicy = Pick<JobsOptions, 'attempts' | 'backoff'>;

/** Attempts and backoff for transient faults (database or Redis away, disk full). */
export function retryPolicy(config: Config): RetryPolicy {
  return { attempts: config.routerAttempts, backoff: { type: 'exponential', delay: config.routerBackoffMs } };
}

/**
 * Finished jobs are removed, failed ones too: the transfers table is the record, and a removed id
 * lets the OUT rescan queue a trigger again whose job failed before the trigger was taken.
 */
function defaultJobOptions(retry: RetryPolicy): JobsOptions {
  return { ...retry, removeOnComplete: true, removeOnFail: true };
}

/** BullMQ's classes bound to its PostgreSQL backend (one code path, two backends). */
const OnPostgres = withBackend(createPostgresBackend);

export function openRoutingQueue(backend: QueueBackend, retry: RetryPolicy): RoutingQueue {
  if (backend.kind === 'redis') {
    return new Queue<RoutingJob>(ROUTING_QUEUE, {
      connection: { url: backend.redisUrl, maxRetriesPerRequest: null },
      prefix: backend.prefix,
      defaultJobOptions: defaultJobOptions(retry),
    });
  }
  return new OnPostgres.Queue<RoutingJob>(ROUTING_QUEUE, {
    connection: { connectionString: backend.databaseUrl, migrate: true, max: 4 },
    defaultJobOptions: defaultJobOptions(retry),
  }) as unknown as RoutingQueue;
}

export function openRoutingWorker(backend: QueueBackend, processor: RoutingProcessor, concurrency: number): RoutingWorker {
  const opts: Omit<WorkerOptions, 'connection'> = { concurrency, autorun: true };
  if (backend.kind === 'redis') {
    return new Worker<RoutingJob>(ROUTING_QUEUE, processor, {
      ...opts,
      connection: { url: backend.redisUrl, maxRetriesPerRequest: null },
      prefix: backend.prefix,
    });
  }
  return new OnPostgres.Worker<RoutingJob>(ROUTING_QUEUE, processor as never, {
    ...opts,
    connection: { connectionString: backend.databaseUrl, migrate: true, max: Math.max(4, concurrency) },
  }) as unknown as RoutingWorker;
}

/**
 * Adds a job; a job with the same id still waiting or running makes this a no-op, so the three
 * intake paths seeing one trigger queue it once.
 */
export async function submit(queue: RoutingQueue, data: RoutingJob, jobId: string, opts: JobsOptions = {}): Promise<void> {
  await queue.add(data.kind, data, { jobId, ...opts });
}

/** A job to add: its data and its id. */
export interface QueuedJob {
  data: RoutingJob;
  jobId: string;
}

/** Jobs per round trip to the queue in submitMany. */
const BULK = 500;

/**
 * `submit` for many jobs, a round trip per 500 (a scan over a backlog, the resume at start, the
 * sweep); an id already waiting or running is a no-op, as there.
 */
export async function submitMany(queue: RoutingQueue, jobs: QueuedJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += BULK) {
    await queue.addBulk(jobs.slice(i, i + BULK).map((j) => ({ name: j.data.kind, data: j.data, opts: { jobId: j.jobId } })));
  }
}
