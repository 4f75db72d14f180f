import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/pool.js';
import { tryLockSql } from './lock-transfer.js';
import { insertAuditSql, insertStepsSql, StepLog } from './transfer-steps.js';

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
 * One statement: the row, its first step and its audit entry. A row this call made comes back with
 * the transfer's lock held on `db`'s session (`locked`, see lock-transfer.ts), so the caller routes
 * it without another round trip; the caller must unlock it (or drop the connection).
 */
export async function insertReceived(db: Queryable, t: ReceivedTrigger): Promise<{ id: string; created: boolean; receivedAt?: Date; locked?: boolean }> {
  const steps = new StepLog();
  steps.add('received', { trigger: t.triggerName, closedAt: t.closedAt });
  const { rows } = await db.query<{ id: string; receivedAt: Date; locked: boolean }>(
    `WITH ins AS (
       INSERT INTO transfers (id, sender_system_id, trigger_key, trigger_name, trigger_xml, file_name, senders_file_id,
                              transaction_id, trigger_closed_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received')
       ON CONFLICT (trigger_key) DO NOTHING RETURNING id, received_at
     ), step AS (
       ${insertStepsSql('$1', '$10', 'EXISTS (SELECT 1 FROM ins)')}
     ), aud AS (
       ${insertAuditSql('$1', 'transfer.received', 'NULL', `jsonb_build_object('status', 'received', 'trigger', $4::text)`, 'EXISTS (SELECT 1 FROM ins)')}
     )
     SELECT id::text, received_at AS "receivedAt", ${tryLockSql('id::text')} AS locked FROM ins`,
    [randomUUID(), t.senderSystemId, t.triggerKey, t.triggerName, t.triggerXml, t.fileName ?? null, t.sendersFileId ?? null, t.transactionId ?? null, t.closedAt, steps.take()],
  );
  if (rows[0]) return { id: rows[0].id, created: true, receivedAt: rows[0].receivedAt, locked: rows[0].locked };
  const existing = await transferIdByTriggerKey(db, t.triggerKey);
  if (!existing) throw new Error(`The transfer for trigger ${t.triggerName} (key ${t.triggerKey}) was neither made nor found`);
  return { id: existing, created: false };
}

export async function transferIdByTriggerKey(db: Queryable, key: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id::text FROM transfers WHERE trigger_key = $1', [key]);
  return rows[0]?.id;
}
