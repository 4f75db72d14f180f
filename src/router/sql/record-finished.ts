import type { PoolClient } from '../../db/pool.js';
import type { StepLog } from './transfer-steps.js';
import { inClientTransaction } from './transaction.js';

/** The receipt is written and the spool cleared or quarantined: nothing more to do for this transfer. */
export async function recordFinished(client: PoolClient, transferId: string, steps: StepLog): Promise<void> {
  await inClientTransaction(client, async () => {
    await client.query('UPDATE transfers SET finished_at = coalesce(finished_at, now()), updated_at = now() WHERE id = $1', [transferId]);
    steps.add('finished');
    await steps.flush(client, transferId);
  });
}
