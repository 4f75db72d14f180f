import { DelayedError, type Job } from 'bullmq';
import type { Pool } from '../db/pool.js';
import { log } from '../log.js';
import { receiveTrigger } from './receive-trigger.js';
import { failTransfer, routeTransfer, type JobMemo, type RouterDeps } from './route-transfer.js';
import { RouteLater } from './routing-error.js';
import type { RoutingJob, RoutingProcessor } from './routing-queue.js';
import { tryLockTransfer, unlockTransfer } from './sql/lock-transfer.js';

/**
 * The worker's job handler. Whatever happens, the job ends in a recorded state: done; delayed
 * (RouteLater: not now, without spending an attempt); thrown for BullMQ to retry with backoff
 * (transient: database, Redis, disk); or, on the last attempt, the transfer recorded as failed.
 */
export function routingProcessor(deps: RouterDeps, pool: Pool): RoutingProcessor {
  return async (job: Job<RoutingJob>, token?: string) => {
    let transferId: string | undefined;
    const client = await pool.connect();
    let broken = false;
    try {
      const memo: JobMemo = {};
      transferId = job.data.kind === 'trigger' ? await receiveTrigger(client, deps.dataDir, job.data, memo) : job.data.transferId;
      if (!transferId) return;
      if (!(await tryLockTransfer(client, transferId))) throw new RouteLater(`transfer ${transferId} is being routed by another worker`, 1000);
      try {
        await routeTransfer(deps, client, transferId, memo);
      } finally {
        await unlockTransfer(client, transferId).catch(() => (broken = true));
      }
    } catch (err) {
      if (err instanceof RouteLater) {
        log.debug({ op: 'route', transferId, reason: err.message }, 'routing later');
        await job.moveToDelayed(Date.now() + err.delayMs, token);
        throw new DelayedError();
      }
      broken = true;
      const attempts = job.opts.attempts ?? 1;
      log.warn({ op: 'route', transferId, err, attempt: job.attemptsMade + 1, attempts }, 'routing step failed; it will be retried');
      if (transferId && job.attemptsMade + 1 >= attempts) {
        const c = await pool.connect().catch(() => undefined);
        if (c) {
          await failTransfer(deps, c, transferId, err as Error, attempts)
            .catch((e: unknown) => log.error({ op: 'route', transferId, err: e }, 'could not record the transfer as failed; the sweep will take it up again'))
            .finally(() => c.release());
        }
      }
      throw err;
    } finally {
      client.release(broken);
    }
  };
}
