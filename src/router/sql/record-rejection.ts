import { audit } from '../../audit/audit.js';
import type { PoolClient } from '../../db/pool.js';
import type { StepLog } from './transfer-steps.js';
import { inClientTransaction } from './transaction.js';

/**
 * `received` → `rejected` (code, text and the receipt to send), or → `resent` when the trigger repeats
 * a delivered transfer (its receipt is the original's). One transaction.
 */
export async function recordRejection(
  client: PoolClient,
  r: { transferId: string; status: 'rejected' | 'resent'; code?: string; text: string; receiptXml: string; resendOf?: string; fileName?: string; sizeBytes?: number },
  steps: StepLog,
): Promise<void> {
  await inClientTransaction(client, async () => {
    const { rowCount } = await client.query(
      `UPDATE transfers SET status = $2, error_code = $3, error_text = $4, receipt_xml = $5, resend_of = $6,
              file_name = coalesce($7, file_name), size_bytes = coalesce($8, size_bytes), decided_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'received'`,
      [r.transferId, r.status, r.code ?? null, r.text, r.receiptXml, r.resendOf ?? null, r.fileName ?? null, r.sizeBytes ?? null],
    );
    if (rowCount !== 1) throw new Error(`Transfer ${r.transferId} is no longer in state received; not recording a second decision`);
    steps.add(r.status, { code: r.code, text: r.text, resendOf: r.resendOf });
    await steps.flush(client, r.transferId);
    await audit(client, {
      actor: 'router',
      action: `transfer.${r.status}`,
      entity: 'transfer',
      entityId: r.transferId,
      before: { status: 'received' },
      after: { status: r.status, code: r.code, text: r.text, resendOf: r.resendOf },
    });
  });
}
