import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { submit, type RoutingQueue } from './routing-queue.js';
import { findTransfer } from './sql/find-transfer.js';
import { recordSteps, StepLog } from './sql/transfer-steps.js';

/**
 * `filudveksling transfer retry` and the portal's "Prøv igen": a failed transfer goes back to where
 * it failed (received when it was never decided, else validated) and the routing queue is told to
 * look at it again. Refused for any other state, and when a later trigger with the same
 * SendersFileId has been delivered meanwhile (the retry would deliver the file twice). `queue`
 * opens the routing queue (or gives the one the caller keeps), asked only once there is something to queue.
 */
export async function retryTransfer(pool: Pool, queue: () => RoutingQueue, id: string, by: string): Promise<{ id: string; status: 'received' | 'validated'; retries: number }> {
  const r = await retryInDatabase(pool, id, by);
  // Only after the commit: a worker taking the job at once finds the transfer back in its state. If
  // this fails, the router's sweep finds the transfer waiting and queues it.
  await submit(queue(), { kind: 'transfer', transferId: r.id }, `retry-${r.id}-${r.retries}`);
  return r;
}

async function retryInDatabase(pool: Pool, id: string, by: string): Promise<{ id: string; status: 'received' | 'validated'; retries: number }> {
  return inTransaction(pool, async (client) => {
    const t = await findTransfer(client, id);
    if (!t) throw new RefusedError(`No transfer ${id}; 'filudveksling transfer list' shows the transfers`, { code: 'transfer-unknown', values: { id } });
    await client.query('SELECT 1 FROM transfers WHERE id = $1 FOR UPDATE', [t.id]);
    if (t.status !== 'failed') {
      throw new RefusedError(`Transfer ${t.id} is ${t.status}; only a failed transfer can be retried`, { code: 'transfer-not-failed', values: { id: t.id, status: t.status } });
    }
    if (t.sendersFileId !== null) {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id::text FROM transfers WHERE sender_system_id = $1 AND senders_file_id = $2 AND status = 'delivered' AND id <> $3 LIMIT 1`,
        [t.senderSystemId, t.sendersFileId, t.id],
      );
      if (rows[0]) {
        throw new RefusedError(`Transfer ${t.id} is not retried: transfer ${rows[0].id} with the same SendersFileId '${t.sendersFileId}' has been delivered since`, {
          code: 'transfer-delivered-since',
          values: { id: t.id, other: rows[0].id, sendersFileId: t.sendersFileId },
        });
      }
    }
    const status = t.decidedAt ? 'validated' : 'received';
    const { rows } = await client.query<{ retries: number }>(
      `UPDATE transfers SET status = $2, error_code = NULL, error_text = NULL, retries = retries + 1, updated_at = now()
        WHERE id = $1 RETURNING retries`,
      [t.id, status],
    );
    const steps = new StepLog();
    steps.add(`retry:${rows[0]!.retries}`, { by });
    await recordSteps(client, t.id, steps);
    await audit(client, { actor: by, action: 'transfer.retry', entity: 'transfer', entityId: t.id, before: { status: 'failed', error: t.errorText }, after: { status } });
    return { id: t.id, status, retries: rows[0]!.retries };
  });
}
