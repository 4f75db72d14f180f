import { randomUUID } from 'node:crypto';
import { audit } from '../../audit/audit.js';
import type { PoolClient } from '../../db/pool.js';

export interface ReceivedTrigger {
  senderSystemId: number;
  triggerKey: string;
  triggerName: string;
  triggerXml: string;
  fileName?: string;
  sendersFileId?: string;
  transactionId?: string;
  closedAt: Date;
}

/**
 * Records a trigger as a transfer in state `received`, once per trigger file: a second call for the
 * same trigger_key (another intake path, a re-run job) returns the transfer the first one made.
 */
export async function insertReceived(client: PoolClient, t: ReceivedTrigger): Promise<{ id: string; created: boolean }> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO transfers (id, sender_system_id, trigger_key, trigger_name, trigger_xml, file_name, senders_file_id,
                              transaction_id, trigger_closed_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received')
       ON CONFLICT (trigger_key) DO NOTHING RETURNING id::text`,
      [id, t.senderSystemId, t.triggerKey, t.triggerName, t.triggerXml, t.fileName ?? null, t.sendersFileId ?? null, t.transactionId ?? null, t.closedAt],
    );
    if (rows.length === 0) {
      await client.query('ROLLBACK');
      const existing = await client.query<{ id: string }>('SELECT id::text FROM transfers WHERE trigger_key = $1', [t.triggerKey]);
      return { id: existing.rows[0]!.id, created: false };
    }
    await client.query(`INSERT INTO transfer_steps (transfer_id, step, at, detail) VALUES ($1, 'received', now(), $2)`, [
      id,
      JSON.stringify({ trigger: t.triggerName, closedAt: t.closedAt }),
    ]);
    await audit(client, { actor: 'router', action: 'transfer.received', entity: 'transfer', entityId: id, after: { status: 'received', trigger: t.triggerName } });
    await client.query('COMMIT');
    return { id, created: true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function transferIdByTriggerKey(client: PoolClient, key: string): Promise<string | undefined> {
  const { rows } = await client.query<{ id: string }>('SELECT id::text FROM transfers WHERE trigger_key = $1', [key]);
  return rows[0]?.id;
}
