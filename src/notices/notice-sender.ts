import { Queue, Worker, createPostgresBackend, withBackend, type Job } from 'bullmq';
import nodemailer from 'nodemailer';
import type { Pool } from '../db/pool.js';
import { log } from '../log.js';
import { settlesWithin } from '../operations/drain.js';
import type { QueueBackend } from '../router/routing-queue.js';
import { pendingNoticeIds, recoverAbandoned } from './outbox.js';
import { sendNotice, type SendDeps } from './send-notice.js';

export const NOTICE_QUEUE = 'notices';
type NoticeJob = { id: string };

export interface SenderOptions {
  pool: Pool;
  backend: QueueBackend;
  smtpUrl: string;
  /** PEM certificates trusted for the SMTP server's TLS (SMTP_CA_FILE) instead of the system's CAs. */
  tlsCa?: string;
  mailFrom: string;
  publicUrl: string;
  attempts: number;
  backoffMs: number;
  /** How often the outbox is looked at for new notices (and abandoned sends). */
  pollMs?: number;
  /** A send claimed longer ago than this was abandoned by its node (above the SMTP timeouts). */
  leaseMs?: number;
  now?: () => Date;
  hooks?: SendDeps['hooks'];
}

/** SMTP timeouts: they bound one send, and so the lease after which a send counts as abandoned. */
const SMTP_TIMEOUT_MS = 60_000;
const OnPostgres = withBackend(createPostgresBackend);

export interface NoticeSender {
  /** Queues every pending notice now (the poll does it every pollMs). */
  poll(): Promise<void>;
  /** `abandon` (tests: a node that dies) leaves jobs in flight as they are. */
  close(abandon?: boolean): Promise<void>;
}

/**
 * The sender: a poll queues one BullMQ job per pending notice (job id `notice-<id>`, so several
 * nodes queue it once), the worker mails it with nodemailer (smtp:// STARTTLS, smtps:// TLS),
 * retried with exponential backoff; the outbox row's state makes it at most once (send-notice.ts).
 */
export async function startNoticeSender(o: SenderOptions): Promise<NoticeSender> {
  const now = o.now ?? (() => new Date());
  const leaseMs = o.leaseMs ?? 3 * SMTP_TIMEOUT_MS;
  const transport = nodemailer.createTransport({
    url: o.smtpUrl,
    ...(o.tlsCa ? { tls: { ca: o.tlsCa } } : {}),
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  const deps: SendDeps = { pool: o.pool, transport, mailFrom: o.mailFrom, publicUrl: o.publicUrl, now, hooks: o.hooks };
  const jobOptions = { attempts: o.attempts, backoff: { type: 'exponential', delay: o.backoffMs }, removeOnComplete: true, removeOnFail: true };
  const processor = async (job: Job<NoticeJob>) => {
    await sendNotice(deps, job.data.id, job.attemptsMade + 1 >= o.attempts);
  };
  const redis = o.backend.kind === 'redis' ? { connection: { url: o.backend.redisUrl, maxRetriesPerRequest: null }, prefix: o.backend.prefix } : undefined;
  const pg = { connection: { connectionString: o.backend.databaseUrl, migrate: true, max: 2 } };
  const queue = redis
    ? new Queue<NoticeJob>(NOTICE_QUEUE, { ...redis, defaultJobOptions: jobOptions })
    : (new OnPostgres.Queue<NoticeJob>(NOTICE_QUEUE, { ...pg, defaultJobOptions: jobOptions }) as unknown as Queue<NoticeJob>);
  const worker = redis
    ? new Worker<NoticeJob>(NOTICE_QUEUE, processor, { ...redis, concurrency: 2 })
    : (new OnPostgres.Worker<NoticeJob>(NOTICE_QUEUE, processor as never, { ...pg, concurrency: 2 }) as unknown as Worker<NoticeJob>);
  queue.on('error', (err) => log.warn({ op: 'notice', err: err.message }, `notice queue error: ${err.message}`));
  worker.on('error', (err) => log.warn({ op: 'notice', err: err.message }, `notice worker error: ${err.message}`));
  worker.on('failed', (job, err) => log.warn({ op: 'notice', id: job?.data.id, err: err.message }, `notice not sent: ${err.message}`));
  await queue.waitUntilReady();
  await worker.waitUntilReady();

  const poll = async () => {
    // A recovered row's old job may still look active (its node's lock has not lapsed): a job of its own.
    // One round trip per poll, not one per notice: the pending ones are queued again every poll (their job ids make that a no-op).
    const at = now().getTime();
    const recovered = (await recoverAbandoned(o.pool, now(), leaseMs)).map((id) => ({ name: 'notice', data: { id }, opts: { jobId: `notice-${id}-recovered-${at}` } }));
    const pending = (await pendingNoticeIds(o.pool)).map((id) => ({ name: 'notice', data: { id }, opts: { jobId: `notice-${id}` } }));
    if (recovered.length + pending.length > 0) await queue.addBulk([...recovered, ...pending]);
  };
  const timer = setInterval(() => void poll().catch((err: unknown) => log.warn({ op: 'notice', err }, 'looking at the outbox failed')), o.pollMs ?? 5000);
  timer.unref();
  await poll();
  return {
    poll,
    async close(abandon = false) {
      clearInterval(timer);
      // A job stuck on an unreachable SMTP server or database must not hold the node's stop.
      if (!(await settlesWithin(worker.close(abandon), 5000))) log.warn({ op: 'notice' }, 'the notice worker did not close within 5 s; stopping without it');
      if (!(await settlesWithin(queue.close(), 5000))) log.warn({ op: 'notice' }, 'the notice queue did not close within 5 s; going on');
      transport.close();
    },
  };
}
