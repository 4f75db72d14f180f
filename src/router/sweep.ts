import type { Queryable } from '../db/pool.js';
import { submitMany, type RoutingQueue } from './routing-queue.js';
import { unfinishedTransfers } from './sql/unfinished-transfers.js';

/** How often the sweep looks for transfers no job is carrying (e.g. failing to record a failure). */
export const SWEEP_EVERY_MS = 60_000;
/** Untouched this long, an unfinished transfer is looked at by the sweep. */
export const SWEEP_IDLE_MS = 120_000;

/**
 * Queues a job for each unfinished transfer untouched for `idleMs` that no job in the queue carries.
 * A job backing off after a failed attempt (or waiting for an upload) leaves its transfer untouched
 * for minutes and is still its job: a second one would run beside it with retries of its own.
 * Returns the transfers it queued.
 */
export async function sweepStalled(queue: RoutingQueue, db: Queryable, idleMs = SWEEP_IDLE_MS): Promise<string[]> {
  const stalled = await unfinishedTransfers(db, idleMs);
  if (stalled.length === 0) return [];
  const carried = await carriedByJobs(queue);
  const orphans = stalled.filter((t) => !carried.transferIds.has(t.id) && !(t.triggerKey !== null && carried.triggerKeys.has(t.triggerKey)));
  // One round trip for all of them: after an outage the sweep may find thousands.
  if (orphans.length > 0) await submitMany(queue, orphans.map((t) => ({ data: { kind: 'transfer', transferId: t.id }, jobId: `sweep-${t.id}` })));
  return orphans.map((t) => t.id);
}

/** What the queue's live jobs (waiting, running, delayed) are about. */
async function carriedByJobs(queue: RoutingQueue): Promise<{ transferIds: Set<string>; triggerKeys: Set<string> }> {
  const transferIds = new Set<string>();
  const triggerKeys = new Set<string>();
  for (const job of await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized'])) {
    const data = job?.data;
    if (data?.kind === 'transfer') transferIds.add(data.transferId);
    else if (data?.kind === 'trigger') triggerKeys.add(data.key);
  }
  return { transferIds, triggerKeys };
}
