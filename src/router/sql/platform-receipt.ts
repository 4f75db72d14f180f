import type { Queryable } from '../../db/pool.js';

/**
 * Whether `text` is, byte for byte, a receipt the platform recorded for one of this sender's
 * transfers (the one its FileTransferUUID names; a resend's receipt is its original's).
 */
export async function isPlatformReceipt(db: Queryable, senderSystemId: number, text: string): Promise<boolean> {
  const id = /<FileTransferUUID>([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})<\/FileTransferUUID>/.exec(text)?.[1];
  if (!id) return false;
  const { rows } = await db.query<{ ours: boolean }>('SELECT EXISTS (SELECT 1 FROM transfers WHERE id = $1 AND sender_system_id = $2 AND receipt_xml = $3) AS ours', [id, senderSystemId, text]);
  return rows[0]!.ours;
}
