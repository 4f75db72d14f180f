import type { Queryable } from '../db/pool.js';
import { IN_FLIGHT_SQL } from '../router/transfer-states.js';

/** A system's quota and the bytes of its transfers still in the spool (by their recorded sizes). */
export async function quotaAndSpooled(db: Queryable, systemId: number): Promise<{ quotaBytes: number; spooledBytes: number }> {
  const { rows } = await db.query<{ quota_bytes: string; spooled: string }>(
    `SELECT s.quota_bytes,
            (SELECT coalesce(sum(t.size_bytes), 0) FROM transfers t
              WHERE t.sender_system_id = s.id AND t.status IN ${IN_FLIGHT_SQL}) AS spooled
       FROM systems s WHERE s.id = $1`,
    [systemId],
  );
  return { quotaBytes: Number(rows[0]?.quota_bytes ?? Infinity), spooledBytes: Number(rows[0]?.spooled ?? 0) };
}
