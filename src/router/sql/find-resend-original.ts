import type { Queryable } from '../../db/pool.js';
import { IN_FLIGHT_SQL } from '../transfer-states.js';

export interface EarlierTransfer {
  id: string;
  status: string;
  receiptXml: string | null;
}

/**
 * SPEC §5's resend rule: the delivered transfer with this Sender + SendersFileId, if any; else an
 * older one with the same pair that is still on its way (the caller waits for it to finish, so two
 * triggers of one file never both deliver).
 */
export async function findResendOriginal(db: Queryable, q: { transferId: string; senderSystemId: number; sendersFileId: string }): Promise<EarlierTransfer | undefined> {
  const { rows } = await db.query<EarlierTransfer>(
    `SELECT o.id::text AS id, o.status, o.receipt_xml AS "receiptXml"
       FROM transfers o, transfers me
      WHERE me.id = $1 AND o.sender_system_id = $2 AND o.senders_file_id = $3 AND o.id <> me.id
        AND (o.status = 'delivered'
             OR (o.status IN ${IN_FLIGHT_SQL} AND (o.received_at, o.id) < (me.received_at, me.id)))
      ORDER BY (o.status = 'delivered') DESC, o.received_at
      LIMIT 1`,
    [q.transferId, q.senderSystemId, q.sendersFileId],
  );
  return rows[0];
}
