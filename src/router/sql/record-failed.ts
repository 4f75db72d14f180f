import type { Queryable } from '../../db/pool.js';
import { IN_FLIGHT_SQL } from '../transfer-states.js';
import { insertAuditSql, insertStepsSql, StepLog } from './transfer-steps.js';

/**
 * Out of retries: `failed`, with the DELIVERY_FAILED receipt. Not finished — the spool keeps the file
 * for `filudveksling transfer retry`. One statement: the state, its step and its audit row, and the
 * receipt owed until `receiptOwedNoMore` (the receipt is written after the commit).
 */
export async function recordFailed(db: Queryable, f: { transferId: string; text: string; receiptXml: string }): Promise<boolean> {
  const steps = new StepLog();
  // A transfer can fail again after each retry: every failure is a step of its own.
  steps.add(`failed:${new Date().toISOString()}`, { text: f.text });
  const { rows } = await db.query<{ before: string }>(
    `WITH upd AS (
       UPDATE transfers t SET status = 'failed', error_code = 'DELIVERY_FAILED', error_text = $2, receipt_xml = $3,
              failure_receipt_owed = true, updated_at = now()
         FROM transfers old WHERE t.id = $1 AND old.id = t.id AND t.status IN ${IN_FLIGHT_SQL}
       RETURNING old.status AS before
     ), st AS (${insertStepsSql('$1', '$4', 'EXISTS (SELECT 1 FROM upd)')}
     ), aud AS (
       ${insertAuditSql('$1', 'transfer.failed', `(SELECT jsonb_build_object('status', before) FROM upd)`, `jsonb_build_object('status', 'failed', 'text', $2::text)`, 'EXISTS (SELECT 1 FROM upd)')}
     )
     SELECT before FROM upd`,
    [f.transferId, f.text, f.receiptXml, steps.take()],
  );
  return rows.length > 0;
}

/** The failure's receipt is in the sender's IN: the failed transfer owes nothing until it is retried. */
export async function receiptOwedNoMore(db: Queryable, transferId: string): Promise<void> {
  await db.query(`UPDATE transfers SET failure_receipt_owed = false WHERE id = $1 AND failure_receipt_owed`, [transferId]);
}
