import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/pool.js';
import type { SystemRow } from '../../systems/find-system.js';
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

/** What recording a trigger gave: the transfer's id, and whether this call made it (with its lock held). */
export interface Inserted {
  id: string;
  created: boolean;
  receivedAt?: Date;
  locked?: boolean;
}

/**
 * Records a trigger as a transfer in state `received`, once per trigger file: a second call for the
 * same trigger_key (another intake path, a re-run job) returns the transfer the first one made.
 * One statement: the row, its first step and its audit entry. A row this call made comes back with
 * the transfer's lock held on `db`'s session (`locked`, see lock-transfer.ts), so the caller routes
 * it without another round trip; the caller must unlock it (or drop the connection).
 */
export async function insertReceived(db: Queryable, t: ReceivedTrigger): Promise<Inserted> {
  const { rows } = await db.query<InsertedRow>(insertSql('id = $2::int'), insertValues(t.senderSystemId, t));
  return inserted(db, t, rows[0]!);
}

/**
 * insertReceived for a trigger found in the OUT of `username`: the sender is read in the same
 * statement (one round trip for both). Undefined when no system has that user name (nothing recorded).
 */
export async function insertReceivedFrom(db: Queryable, username: string, t: Omit<ReceivedTrigger, 'senderSystemId'>): Promise<(Inserted & { sender: SystemRow }) | undefined> {
  const { rows } = await db.query<InsertedRow>(insertSql('username = $2::text'), insertValues(username, t));
  const row = rows[0];
  if (!row) return undefined;
  const sender: SystemRow = { id: row.senderId, username: row.username, uuid: row.uuid, vendorId: row.vendorId, enabled: row.enabled, inboxLayout: row.inboxLayout, metadataFormat: row.metadataFormat };
  return { ...(await inserted(db, t, row)), sender };
}

interface InsertedRow {
  senderId: number;
  username: string;
  uuid: string;
  vendorId: number;
  enabled: boolean;
  inboxLayout: SystemRow['inboxLayout'];
  metadataFormat: SystemRow['metadataFormat'];
  transferId: string | null;
  receivedAt: Date | null;
  locked: boolean | null;
}

function insertSql(senderWhere: string): string {
  return `WITH sender AS (
       SELECT id, username, uuid::text AS uuid, vendor_id, enabled, inbox_layout, metadata_format FROM systems WHERE ${senderWhere}
     ), ins AS (
       INSERT INTO transfers (id, sender_system_id, trigger_key, trigger_name, trigger_xml, file_name, senders_file_id,
                              transaction_id, trigger_closed_at, status)
       SELECT $1, sender.id, $3, $4, $5, $6, $7, $8, $9, 'received' FROM sender
       ON CONFLICT (trigger_key) DO NOTHING RETURNING id, received_at
     ), step AS (
       ${insertStepsSql('$1', '$10', 'EXISTS (SELECT 1 FROM ins)')}
     ), aud AS (
       ${insertAuditSql('$1', 'transfer.received', 'NULL', `jsonb_build_object('status', 'received', 'trigger', $4::text)`, 'EXISTS (SELECT 1 FROM ins)')}
     )
     SELECT sender.id AS "senderId", sender.username, sender.uuid, sender.vendor_id AS "vendorId", sender.enabled,
            sender.inbox_layout AS "inboxLayout", sender.metadata_format AS "metadataFormat",
            ins.id::text AS "transferId", ins.received_at AS "receivedAt",
            CASE WHEN ins.id IS NULL THEN NULL ELSE ${tryLockSql('ins.id::text')} END AS locked
       FROM sender LEFT JOIN ins ON true`;
}

function insertValues(sender: number | string, t: Omit<ReceivedTrigger, 'senderSystemId'>): unknown[] {
  const steps = new StepLog();
  steps.add('received', { trigger: t.triggerName, closedAt: t.closedAt });
  return [randomUUID(), sender, t.triggerKey, t.triggerName, t.triggerXml, t.fileName ?? null, t.sendersFileId ?? null, t.transactionId ?? null, t.closedAt, steps.take()];
}

async function inserted(db: Queryable, t: Pick<ReceivedTrigger, 'triggerKey' | 'triggerName'>, row: InsertedRow | undefined): Promise<Inserted> {
  if (row?.transferId) return { id: row.transferId, created: true, receivedAt: row.receivedAt!, locked: row.locked! };
  const existing = await transferIdByTriggerKey(db, t.triggerKey);
  if (!existing) throw new Error(`The transfer for trigger ${t.triggerName} (key ${t.triggerKey}) was neither made nor found`);
  return { id: existing, created: false };
}

export async function transferIdByTriggerKey(db: Queryable, key: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id::text FROM transfers WHERE trigger_key = $1', [key]);
  return rows[0]?.id;
}
