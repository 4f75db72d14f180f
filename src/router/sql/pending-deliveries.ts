import type { Queryable } from '../../db/pool.js';

/** A delivery to make (or already made), with what placing it needs to know about the recipient. */
export interface DeliveryRow {
  recipientSystemId: number;
  username: string;
  uuid: string;
  inboxLayout: 'per-authority' | 'flat';
  metadataFormat: 'file-metadata' | 'legacy';
  folder: string | null;
  status: 'pending' | 'placed' | 'delivered' | 'fetched' | 'expired';
  deliveredName: string | null;
}

export async function deliveriesOf(db: Queryable, transferId: string): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.recipient_system_id AS "recipientSystemId", s.username, s.uuid::text AS uuid, s.inbox_layout AS "inboxLayout",
            s.metadata_format AS "metadataFormat", d.folder, d.status, d.delivered_name AS "deliveredName"
       FROM deliveries d JOIN systems s ON s.id = d.recipient_system_id
      WHERE d.transfer_id = $1 ORDER BY s.username`,
    [transferId],
  );
  return rows;
}
