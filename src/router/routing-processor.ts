import { DelayedError, type Job } from 'bullmq';
import type { Pool } from '../db/pool.js';
import { log } from '../log.js';
import { failTransfer } from './fail-transfer.js';
import { receiveTrigger, type Received } from './intake/receive-trigger.js';
import { routeTransfer } from './route-transfer.js';
import { RouteLater } from './routing-error.js';
import type { RoutingJob, RoutingProcessor } from './routing-queue.js';
import type { RouterDeps } from './step-context.js';
import { TransferLock } from './transfer-lock.js';

/**
 * The worker's job handler. Whatever happens, the job ends in a recorded state: done; delayed
 * (RouteLater: not now, without spending an attempt); thrown for BullMQ to retry with backoff
 * (transient: database, Redis, disk); or, on the last attempt, the transfer recorded as failed.
 * A job holds one pooled connection at a time; its transfer lock lives on it, owned here.
 */
export function routingProcessor(deps: RouterDeps, pool: Pool): RoutingProcessor {
  return async (job: Job<RoutingJob>, token?: string) => {
    let transferId: string | undefined;
    let failure: Error | undefined;
    let later: RouteLater | undefined;
    const client = await pool.connect();
    let broken = false;
    const lock = new TransferLock(client);
    try {
      const received: Received | undefined = job.data.kind === 'trigger' ? await receiveTrigger(client, deps.dataDir, job.data, lock) : { transferId: job.data.transferId };
      transferId = received?.transferId;
      if (!received) return;
      if (!(await lock.take(received.transferId))) throw new RouteLater(`transfer ${received.transferId} is being routed by another worker`, 1000);
      try {
        await routeTransfer(deps, client, lock, received.transferId, received.known);
      } finally {
        await lock.release().catch(() => (broken = true));
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
