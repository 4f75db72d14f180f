import { audit } from '../../audit/audit.js';
import type { PoolClient } from '../../db/pool.js';
import type { StepLog } from './transfer-steps.js';
import { inClientTransaction } from './transaction.js';

export async function markDelivering(client: PoolClient, transferId: string): Promise<void> {
  await client.query(`UPDATE transfers SET status = 'delivering', updated_at = now() WHERE id = $1 AND status = 'validated'`, [transferId]);
}

/**
 * Every recipient holds the file and its metadata: the deliveries (with the names they got) and the
 * transfer (`delivered`, its receipt) are recorded in one transaction.
 */
export async function recordDelivered(
  client: PoolClient,
  d: { transferId: string; receiptXml: string; placed: { recipientSystemId: number; name: string; placedAt: Date; metadataAt: Date }[] },
  steps: StepLog,
): Promise<void> {
  await inClientTransaction(client, async () => {
    await client.query(
      `UPDATE deliveries d SET status = 'delivered', delivered_name = p.name, placed_at = p.placed_at, metadata_at = p.metadata_at
         FROM jsonb_to_recordset($2::jsonb) AS p(recipient_system_id int, name text, placed_at timestamptz, metadata_at timestamptz)
        WHERE d.transfer_id = $1 AND d.recipient_system_id = p.recipient_system_id`,
      [
        d.transferId,
        JSON.stringify(d.placed.map((p) => ({ recipient_system_id: p.recipientSystemId, name: p.name, placed_at: p.placedAt, metadata_at: p.metadataAt }))),
      ],
    );
    const { rows } = await client.query<{ before: string }>(
      `UPDATE transfers t SET status = 'delivered', receipt_xml = $2, error_code = NULL, error_text = NULL, updated_at = now()
         FROM transfers old WHERE t.id = $1 AND old.id = t.id AND t.status IN ('validated', 'delivering') RETURNING old.status AS before`,
      [d.transferId, d.receiptXml],
    );
    if (rows.length !== 1) throw new Error(`Transfer ${d.transferId} is not being delivered; not recording it as delivered`);
    steps.add('delivered', { recipients: d.placed.map((p) => p.name) });
    await steps.flush(client, d.transferId);
    await audit(client, {
      actor: 'router',
      action: 'transfer.delivered',
      entity: 'transfer',
      entityId: d.transferId,
      before: { status: rows[0]!.before },
      after: { status: 'delivered', deliveries: d.placed.length },
    });
  });
}
