import { audit } from '../../audit/audit.js';
import type { Queryable } from '../../db/pool.js';

/**
 * Out of retries: `failed`, with the DELIVERY_FAILED receipt. Not finished — the spool keeps the file
 * for `filudveksling transfer retry`.
 */
export async function recordFailed(db: Queryable, f: { transferId: string; text: string; receiptXml: string }): Promise<boolean> {
  const { rows } = await db.query<{ before: string }>(
    `UPDATE transfers t SET status = 'failed', error_code = 'DELIVERY_FAILED', error_text = $2, receipt_xml = $3, updated_at = now()
       FROM transfers old WHERE t.id = $1 AND old.id = t.id AND t.status IN ('received', 'validated', 'delivering')
     RETURNING old.status AS before`,
    [f.transferId, f.text, f.receiptXml],
  );
  if (rows.length === 0) return false;
  await db.query(`INSERT INTO transfer_steps (transfer_id, step, at, detail) VALUES ($1, 'failed:' || now()::text, now(), $2) ON CONFLICT DO NOTHING`, [
    f.transferId,
    JSON.stringify({ text: f.text }),
  ]);
  await audit(db, { actor: 'router', action: 'transfer.failed', entity: 'transfer', entityId: f.transferId, before: { status: rows[0]!.before }, after: { status: 'failed', text: f.text } });
  return true;
}
