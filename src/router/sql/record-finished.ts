import type { Queryable } from '../../db/pool.js';
import { insertStepsSql, type StepLog } from './transfer-steps.js';

/** A rejection's quarantine and receipt are done: nothing more to do for this transfer. */
export async function recordFinished(db: Queryable, transferId: string, steps: StepLog): Promise<void> {
  steps.add('finished');
  await db.query(
    `WITH upd AS (UPDATE transfers SET finished_at = coalesce(finished_at, now()), updated_at = now() WHERE id = $1 RETURNING id)
     ${insertStepsSql('$1', '$2')}`,
    [transferId, steps.take()],
  );
}

/** Spool folders of finished delivered transfers (left by a node that died just after finishing). */
export async function finishedDeliveredAmong(db: Queryable, ids: string[]): Promise<string[]> {
  const uuids = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id));
  if (uuids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text FROM transfers WHERE id = ANY($1::uuid[]) AND status IN ('delivered', 'expired') AND finished_at IS NOT NULL`,
    [uuids],
  );
  return rows.map((r) => r.id);
}
