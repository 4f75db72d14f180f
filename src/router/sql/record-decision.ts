import { audit } from '../../audit/audit.js';
import type { PoolClient } from '../../db/pool.js';
import type { StepLog } from './transfer-steps.js';
import { inClientTransaction } from './transaction.js';

export interface RecordedDecision {
  transferId: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
  infrefId: number;
  authorityId: number;
  recipients: { systemId: number; username: string; folder: string | null }[];
}

/** `received` → `validated`, with one pending delivery per recipient, in one transaction. */
export async function recordDecision(client: PoolClient, d: RecordedDecision, steps: StepLog): Promise<void> {
  await inClientTransaction(client, async () => {
    const { rowCount } = await client.query(
      `UPDATE transfers SET status = 'validated', file_name = $2, size_bytes = $3, sha256 = $4, infref_id = $5, authority_id = $6,
              recipients = $7, decided_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'received'`,
      [d.transferId, d.fileName, d.sizeBytes, d.sha256, d.infrefId, d.authorityId, d.recipients.map((r) => r.username)],
    );
    if (rowCount !== 1) throw new Error(`Transfer ${d.transferId} is no longer in state received; not recording a second decision`);
    await client.query(
      `INSERT INTO deliveries (transfer_id, recipient_system_id, folder, status)
       SELECT $1, r.system_id, r.folder, 'pending' FROM jsonb_to_recordset($2::jsonb) AS r(system_id int, folder text)
       ON CONFLICT (transfer_id, recipient_system_id) DO NOTHING`,
      [d.transferId, JSON.stringify(d.recipients.map((r) => ({ system_id: r.systemId, folder: r.folder })))],
    );
    steps.add('validated', { recipients: d.recipients.map((r) => r.username), sha256: d.sha256 });
    await steps.flush(client, d.transferId);
    await audit(client, {
      actor: 'router',
      action: 'transfer.validated',
      entity: 'transfer',
      entityId: d.transferId,
      before: { status: 'received' },
      after: { status: 'validated', recipients: d.recipients.map((r) => r.username) },
    });
  });
}
