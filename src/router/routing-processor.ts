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
 * A job holds one pooled connection at a time (its transfer lock lives on it).
 */
export function routingProcessor(deps: RouterDeps, pool: Pool): RoutingProcessor {
  return async (job: Job<RoutingJob>, token?: string) => {
    let transferId: string | undefined;
    let failure: Error | undefined;
    let later: RouteLater | undefined;
    const client = await pool.connect();
    let broken = false;
    try {
      const memo: JobMemo = {};
      transferId = job.data.kind === 'trigger' ? await receiveTrigger(client, deps.dataDir, job.data, memo) : job.data.transferId;
      if (!transferId) return;
      if (!memo.locked && !(await tryLockTransfer(client, transferId))) throw new RouteLater(`transfer ${transferId} is being routed by another worker`, 1000);
      try {
        await routeTransfer(deps, client, transferId, memo);
      } finally {
        if (!memo.unlocked) await unlockTransfer(client, transferId).catch(() => (broken = true));
      }
    } catch (err) {
      if (err instanceof RouteLater) later = err;
      else {
        failure = err instanceof Error ? err : new Error(String(err));
        broken = true; // the connection may be what failed; never hand it back with a lock on it
      }
    } finally {
      client.release(broken);
    }

    if (later) {
      log.debug({ op: 'route', transferId, reason: later.message }, 'routing later');
      await job.moveToDelayed(Date.now() + later.delayMs, token);
      throw new DelayedError();
    }
    if (failure) {
      const attempts = job.opts.attempts ?? 1;
      log.warn({ op: 'route', transferId, err: failure, attempt: job.attemptsMade + 1, attempts }, 'routing step failed; it will be retried');
      if (transferId && job.attemptsMade + 1 >= attempts) {
        const c = await pool.connect().catch(() => undefined);
        if (c) {
          await failTransfer(deps, c, transferId, failure, attempts)
            .catch((e: unknown) => log.error({ op: 'route', transferId, err: e }, 'could not record the transfer as failed; the sweep will take it up again'))
            .finally(() => c.release());
        }
      }
      throw failure;
    }
  };
}
