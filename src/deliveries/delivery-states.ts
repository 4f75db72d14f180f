import type { Queryable } from '../db/pool.js';

/** One recipient's copy of a transfer as people follow it (SPEC §6): placed, fetched, deleted. */
export interface DeliveryState {
  recipient: string;
  folder: string | null;
  status: string;
  deliveredName: string | null;
  placedAt: Date | null;
  fetchedAt: Date | null;
  fetchedByNode: string | null;
  deletedAt: Date | null;
  deletedByNode: string | null;
}

export async function deliveryStates(db: Queryable, transferId: string): Promise<DeliveryState[]> {
  const { rows } = await db.query<DeliveryState>(
    `SELECT s.username AS recipient, d.folder, d.status, d.delivered_name AS "deliveredName", d.placed_at AS "placedAt",
            d.fetched_at AS "fetchedAt", d.fetched_by_node AS "fetchedByNode", d.deleted_at AS "deletedAt", d.deleted_by_node AS "deletedByNode"
       FROM deliveries d JOIN systems s ON s.id = d.recipient_system_id
      WHERE d.transfer_id = $1 ORDER BY s.username`,
    [transferId],
  );
  return rows;
}
