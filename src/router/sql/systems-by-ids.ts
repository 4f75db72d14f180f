import type { Queryable } from '../../db/pool.js';
import type { SystemRow } from '../../systems/find-system.js';

/** The recipients of a set of routes, in one query (dynamic routing may name many). */
export async function systemsByIds(db: Queryable, ids: number[]): Promise<SystemRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<SystemRow>(
    `SELECT id, username, uuid::text AS uuid, vendor_id AS "vendorId", enabled, inbox_layout AS "inboxLayout", metadata_format AS "metadataFormat"
       FROM systems WHERE id = ANY($1::int[]) ORDER BY username`,
    [ids],
  );
  return rows;
}
