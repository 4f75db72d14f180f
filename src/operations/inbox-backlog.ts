import type { Queryable } from '../db/pool.js';

/**
 * What recipients have not fetched yet (SPEC §6): per system, the deliveries placed in its IN that it
 * has neither read whole nor deleted, and the age of the oldest. A receiving system that stopped
 * polling is the failure operators most need to see. The SFTP edge records fetches and deletes, so
 * this is one indexed query, not a walk of every inbox.
 */
export interface InboxBacklog {
  system: string;
  files: number;
  oldestSeconds: number;
}

export async function inboxBacklog(db: Queryable, now = new Date()): Promise<InboxBacklog[]> {
  const { rows } = await db.query<InboxBacklog>(
    `SELECT s.username AS system, count(*)::int AS files,
            greatest(0, round(extract(epoch FROM ($1::timestamptz - min(d.placed_at)))))::int AS "oldestSeconds"
       FROM deliveries d JOIN systems s ON s.id = d.recipient_system_id
      WHERE d.placed_at IS NOT NULL AND d.fetched_at IS NULL AND d.deleted_at IS NULL AND d.status = 'delivered'
      GROUP BY s.username
      ORDER BY "oldestSeconds" DESC, s.username`,
    [now],
  );
  return rows;
}

/** A recipient whose oldest unfetched delivery is older than NOTIFY_UNFETCHED_HOURS is falling behind. */
export function isFallingBehind(b: InboxBacklog, unfetchedHours: number): boolean {
  return b.oldestSeconds >= unfetchedHours * 3600;
}
