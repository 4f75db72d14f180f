import type { Queryable } from '../../db/pool.js';

/**
 * Transfers a router still owes work (not finished, not waiting for the operator — unless a failed
 * one's receipt was never written), e.g. after a node died mid-way. `idleForMs` > 0 leaves out those touched recently (a live worker has them).
 */
export async function unfinishedTransfers(db: Queryable, idleForMs = 0): Promise<{ id: string; triggerKey: string | null }[]> {
  const { rows } = await db.query<{ id: string; triggerKey: string | null }>(
    `SELECT id::text, trigger_key AS "triggerKey" FROM transfers
      WHERE finished_at IS NULL AND (status NOT IN ('failed', 'expired') OR failure_receipt_owed) AND updated_at <= now() - $1 * interval '1 millisecond'
      ORDER BY received_at LIMIT 10000`,
    [idleForMs],
  );
  return rows;
}
