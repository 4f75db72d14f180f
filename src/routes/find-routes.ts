import type { Queryable } from '../db/pool.js';

/** An established route (SPEC §1): per InfRef number, so it carries every version of it. */
export interface RouteRow {
  id: number;
  senderSystemId: number;
  infrefNumber: number;
  recipientSystemId: number;
  authorityId: number;
  /** 'YYYY-MM-DD', inclusive; null = open. */
  validFrom: string | null;
  validTo: string | null;
}

export const ROUTE_COLUMNS = `id, sender_system_id AS "senderSystemId", infref_number AS "infrefNumber",
  recipient_system_id AS "recipientSystemId", authority_id AS "authorityId",
  valid_from AS "validFrom", valid_to AS "validTo"`;

/** Routes not removed and valid on `onDate` ('YYYY-MM-DD'; both bounds inclusive), oldest first. */
export async function findRoutes(
  db: Queryable,
  q: { senderSystemId: number; infrefNumber: number; authorityId: number; onDate: string; recipientSystemId?: number },
): Promise<RouteRow[]> {
  const { rows } = await db.query<RouteRow>(
    `SELECT ${ROUTE_COLUMNS} FROM routes
      WHERE removed_at IS NULL AND sender_system_id = $1 AND infref_number = $2 AND authority_id = $3
        AND (valid_from IS NULL OR valid_from <= $4::date) AND (valid_to IS NULL OR valid_to >= $4::date)
        AND ($5::int IS NULL OR recipient_system_id = $5::int)
      ORDER BY id`,
    [q.senderSystemId, q.infrefNumber, q.authorityId, q.onDate, q.recipientSystemId ?? null],
  );
  return rows;
}
