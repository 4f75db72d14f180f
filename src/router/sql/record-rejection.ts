import type { Queryable } from '../../db/pool.js';
import { insertAuditSql, insertStepsSql, type StepLog } from './transfer-steps.js';

/**
 * `received` → `rejected` (code, text and the receipt to send), or → `resent` when the trigger repeats
 * a delivered transfer (its receipt is the original's). One statement.
 */
export async function recordRejection(
  db: Queryable,
  r: { transferId: string; status: 'rejected' | 'resent'; code?: string; text: string; receiptXml: string; resendOf?: string; fileName?: string; sizeBytes?: number },
  steps: StepLog,
): Promise<void> {
  steps.add(r.status, { code: r.code, text: r.text, resendOf: r.resendOf });
  const { rows } = await db.query<{ n: number }>(
    `WITH upd AS (
       UPDATE transfers SET status = $2, error_code = $3, error_text = $4, receipt_xml = $5, resend_of = $6,
              file_name = coalesce($7, file_name), size_bytes = coalesce($8, size_bytes), decided_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'received' RETURNING id
     ), st AS (${insertStepsSql('$1', '$9', 'EXISTS (SELECT 1 FROM upd)')}
     ), aud AS (
       ${insertAuditSql(
         '$1',
         'transfer.\' || $2::text || \'',
         `'{"status":"received"}'::jsonb`,
         `jsonb_build_object('status', $2::text, 'code', $3::text, 'text', $4::text, 'resendOf', $6::text)`,
         'EXISTS (SELECT 1 FROM upd)',
       )}
     )
     SELECT count(*)::int AS n FROM upd`,
    [r.transferId, r.status, r.code ?? null, r.text, r.receiptXml, r.resendOf ?? null, r.fileName ?? null, r.sizeBytes ?? null, steps.take()],
  );
  if (rows[0]!.n !== 1) throw new Error(`Transfer ${r.transferId} is no longer in state received; not recording a second decision`);
}
