import type { Queryable } from '../../db/pool.js';
import { insertStepsSql, type StepLog } from './transfer-steps.js';

export interface RecordedDecision {
  transferId: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
  infrefId: number;
  authorityId: number;
  recipients: { systemId: number; username: string; folder: string | null }[];
}

/**
 * `received` → `validated` → `delivering`, with one pending delivery per recipient: one statement, all
 * or nothing. The job places the deliveries right after deciding, so the decision and "placement
 * begins" are one commit (both state changes audited, in order), not two.
 */
export async function recordDecision(db: Queryable, d: RecordedDecision, steps: StepLog): Promise<void> {
  steps.add('validated', { recipients: d.recipients.map((r) => r.username), sha256: d.sha256 });
  const { rows } = await db.query<{ n: number }>(
    `WITH upd AS (
       UPDATE transfers SET status = 'delivering', file_name = $2, size_bytes = $3, sha256 = $4, infref_id = $5, authority_id = $6,
              recipients = $7, decided_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'received' RETURNING id
     ), dlv AS (
       INSERT INTO deliveries (transfer_id, recipient_system_id, folder, status)
       SELECT $1, r.system_id, r.folder, 'pending' FROM jsonb_to_recordset($8::jsonb) AS r(system_id int, folder text)
        WHERE EXISTS (SELECT 1 FROM upd)
       ON CONFLICT (transfer_id, recipient_system_id) DO NOTHING
     ), st AS (${insertStepsSql('$1', '$9', 'EXISTS (SELECT 1 FROM upd)')}
     ), aud AS (
       INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
       SELECT 'router', a.action, 'transfer', $1::text, a.before, a.after
         FROM (VALUES (1, 'transfer.validated', '{"status":"received"}'::jsonb, jsonb_build_object('status', 'validated', 'recipients', $7::text[])),
                      (2, 'transfer.delivering', '{"status":"validated"}'::jsonb, '{"status":"delivering"}'::jsonb)) AS a(n, action, before, after)
        WHERE EXISTS (SELECT 1 FROM upd)
        ORDER BY a.n
     )
     SELECT count(*)::int AS n FROM upd`,
    [
      d.transferId,
      d.fileName,
      d.sizeBytes,
      d.sha256,
      d.infrefId,
      d.authorityId,
      d.recipients.map((r) => r.username),
      JSON.stringify(d.recipients.map((r) => ({ system_id: r.systemId, folder: r.folder }))),
      steps.take(),
    ],
  );
  if (rows[0]!.n !== 1) throw new Error(`Transfer ${d.transferId} is no longer in state received; not recording a second decision`);
}
