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
    `SELECT ${ROUTE_COLUMNS} FROM routes r
      WHERE r.sender_system_id = $1 AND r.infref_number = $2 AND r.authority_id = $3 AND ${routeValidOnSql('r', '$4')}
        AND ($5::int IS NULL OR r.recipient_system_id = $5::int)
      ORDER BY id`,
    [q.senderSystemId, q.infrefNumber, q.authorityId, q.onDate, q.recipientSystemId ?? null],
  );
  return rows;
}

/** A route not removed and valid on a day (`daySql`, 'YYYY-MM-DD'; both bounds inclusive), as SQL. */
export function routeValidOnSql(alias: string, daySql: string): string {
  return `${alias}.removed_at IS NULL AND (${alias}.valid_from IS NULL OR ${alias}.valid_from <= ${daySql}::date) AND (${alias}.valid_to IS NULL OR ${alias}.valid_to >= ${daySql}::date)`;
}
