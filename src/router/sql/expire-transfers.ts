import type { Queryable } from '../../db/pool.js';

/**
 * What retention (src/operations/retention.ts) asks of the router's tables: which deliveries have
 * waited too long, and recording that their files were purged. The caller audits, in the same
 * transaction.
 */

export interface ExpiringDelivery {
  id: number;
  transferId: string;
  username: string;
  folder: string | null;
  deliveredName: string;
}

/** Deliveries placed before `cutoff` and not yet expired (fetched or not: the caller looks). */
export async function deliveriesPlacedBefore(db: Queryable, cutoff: Date): Promise<ExpiringDelivery[]> {
  const { rows } = await db.query<ExpiringDelivery>(
    `SELECT d.id, d.transfer_id::text AS "transferId", s.username, d.folder, d.delivered_name AS "deliveredName"
       FROM deliveries d JOIN systems s ON s.id = d.recipient_system_id
      WHERE d.expired_at IS NULL AND d.placed_at < $1 AND d.delivered_name IS NOT NULL`,
    [cutoff],
  );
  return rows;
}

/**
 * A delivery's retention is over: `purged` (its file was still there and is gone now) makes the
 * delivery and its transfer `expired`; otherwise (fetched already) only the date is noted.
 */
export async function recordDeliveryExpired(db: Queryable, d: { deliveryId: number; transferId: string; purged: boolean; at: Date }): Promise<void> {
  await db.query("UPDATE deliveries SET expired_at = $2, status = CASE WHEN $3 THEN 'expired' ELSE status END WHERE id = $1", [d.deliveryId, d.at, d.purged]);
  if (d.purged) await db.query("UPDATE transfers SET status = 'expired', expired_at = $2, updated_at = now() WHERE id = $1", [d.transferId, d.at]);
}

/** A rejected or failed transfer's quarantine folder is purged: the transfer becomes `expired` (its error code stays). */
export async function recordQuarantineExpired(db: Queryable, transferId: string, at: Date): Promise<void> {
  await db.query("UPDATE transfers SET status = 'expired', expired_at = $2, updated_at = now() WHERE id::text = $1 AND status IN ('rejected', 'failed')", [transferId, at]);
}
