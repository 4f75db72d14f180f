import type { TransferState } from '../transfer-states.js';

/** The transfers row as the router reads it (table owned by src/router; migrations 001 + 020). */
export interface TransferRow {
  id: string;
  senderSystemId: number;
  senderUsername: string;
  triggerName: string;
  triggerKey: string | null;
  fileName: string | null;
  sendersFileId: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  infrefId: number | null;
  authorityId: number | null;
  status: TransferState;
  errorCode: string | null;
  errorText: string | null;
  triggerXml: string | null;
  receiptXml: string | null;
  resendOf: string | null;
  receivedAt: Date;
  triggerClosedAt: Date | null;
  decidedAt: Date | null;
  finishedAt: Date | null;
  retries: number;
  /** Failed, and the DELIVERY_FAILED receipt not yet written (migration 080). */
  failureReceiptOwed: boolean;
}

export const TRANSFER_COLUMNS = `t.id::text AS id, t.sender_system_id AS "senderSystemId", s.username AS "senderUsername",
  t.trigger_name AS "triggerName", t.trigger_key AS "triggerKey", t.file_name AS "fileName", t.senders_file_id AS "sendersFileId",
  t.size_bytes AS "sizeBytes", t.sha256, t.infref_id AS "infrefId", t.authority_id AS "authorityId", t.status,
  t.error_code AS "errorCode", t.error_text AS "errorText", t.trigger_xml AS "triggerXml", t.receipt_xml AS "receiptXml",
  t.resend_of::text AS "resendOf", t.received_at AS "receivedAt", t.trigger_closed_at AS "triggerClosedAt",
  t.decided_at AS "decidedAt", t.finished_at AS "finishedAt", t.retries,
  t.failure_receipt_owed AS "failureReceiptOwed"`;

export const TRANSFER_FROM = 'transfers t JOIN systems s ON s.id = t.sender_system_id';
