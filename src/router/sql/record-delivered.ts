import type { Queryable } from '../../db/pool.js';
import { unlockSql } from './lock-transfer.js';
import { insertAuditSql, insertStepsSql, type StepLog } from './transfer-steps.js';

/** `validated` → `delivering`: placement has begun (audited like every state change). */
export async function markDelivering(db: Queryable, transferId: string): Promise<void> {
  await db.query(
    `WITH upd AS (UPDATE transfers SET status = 'delivering', updated_at = now() WHERE id = $1 AND status = 'validated' RETURNING id)
     ${insertAuditSql('$1', 'transfer.delivering', `'{"status":"validated"}'::jsonb`, `'{"status":"delivering"}'::jsonb`, 'EXISTS (SELECT 1 FROM upd)')}`,
    [transferId],
  );
}

/**
 * Every recipient holds the file and its metadata, and the sender its receipt: the deliveries (with
 * the names they got) and the transfer (`delivered`, finished) are recorded in one statement.
 * `unlock`: the same statement lets go of the transfer's lock (held on `db`'s session) once the
 * record is made — the last thing the job does with the transfer, without a round trip of its own.
 */
export async function recordDelivered(
  db: Queryable,
  d: { transferId: string; receiptXml: string; placed: { recipientSystemId: number; name: string; placedAt: Date; metadataAt: Date }[]; unlock?: boolean },
  steps: StepLog,
): Promise<void> {
  steps.add('delivered', { recipients: d.placed.map((p) => p.name) });
  const { rows } = await db.query<{ n: number }>(
    `WITH upd AS (
       UPDATE transfers SET status = 'delivered', receipt_xml = $2, error_code = NULL, error_text = NULL, finished_at = now(), updated_at = now()
        WHERE id = $1 AND status IN ('validated', 'delivering') RETURNING id
     ), dlv AS (
       UPDATE deliveries d SET status = 'delivered', delivered_name = p.name, placed_at = p.placed_at, metadata_at = p.metadata_at
         FROM jsonb_to_recordset($3::jsonb) AS p(recipient_system_id int, name text, placed_at timestamptz, metadata_at timestamptz)
        WHERE d.transfer_id = $1 AND d.recipient_system_id = p.recipient_system_id AND EXISTS (SELECT 1 FROM upd)
     ), st AS (${insertStepsSql('$1', '$4', 'EXISTS (SELECT 1 FROM upd)')}
     ), aud AS (
       ${insertAuditSql('$1', 'transfer.delivered', `'{"status":"delivering"}'::jsonb`, `jsonb_build_object('status', 'delivered', 'deliveries', $5::int)`, 'EXISTS (SELECT 1 FROM upd)')}
     )
     SELECT count(*)::int AS n${d.unlock ? `, ${unlockSql('$1::text')} AS unlocked` : ''} FROM upd`,
    [
      d.transferId,
      d.receiptXml,
      JSON.stringify(d.placed.map((p) => ({ recipient_system_id: p.recipientSystemId, name: p.name, placed_at: p.placedAt, metadata_at: p.metadataAt }))),
      steps.take(),
      d.placed.length,
    ],
  );
  if (rows[0]!.n !== 1) throw new Error(`Transfer ${d.transferId} is not being delivered; not recording it as delivered`);
}
