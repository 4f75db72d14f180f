import { requireAuthority } from '../authority/require-authority.js';
import type { Queryable } from '../db/pool.js';
import { INFREF_PREFIX } from '../infref/infref-name.js';
import { requireSystem } from '../systems/require-system.js';

export interface RouteListRow {
  id: number;
  sender: string;
  infrefNumber: number;
  /** Every version of the route's InfRef number, as people type them: FagsystemdefineredeDataRefGDPR<n>_<v>. */
  infrefs: string[];
  recipient: string;
  authority: string;
  kommunekode: string | null;
  cvr: string | null;
  validFrom: string | null;
  validTo: string | null;
  createdBy: string;
  createdAt: Date;
}

/** `route list [--sender] [--recipient] [--authority]`: routes not removed. */
export async function listRoutes(db: Queryable, filter: { sender?: string; recipient?: string; authority?: string } = {}): Promise<RouteListRow[]> {
  const sender = filter.sender === undefined ? undefined : await requireSystem(db, filter.sender, 'sender system');
  const recipient = filter.recipient === undefined ? undefined : await requireSystem(db, filter.recipient, 'recipient system');
  const authority = filter.authority === undefined ? undefined : await requireAuthority(db, filter.authority, '--authority');
  const { rows } = await db.query<RouteListRow>(
    `SELECT r.id, ss.username AS sender, r.infref_number AS "infrefNumber",
            ARRAY(SELECT '${INFREF_PREFIX}' || i.number || '_' || i.version FROM infrefs i WHERE i.number = r.infref_number ORDER BY i.version) AS infrefs,
            rs.username AS recipient, a.name AS authority,
            a.kommunekode, a.cvr, r.valid_from AS "validFrom", r.valid_to AS "validTo", r.created_by AS "createdBy", r.created_at AS "createdAt"
       FROM routes r JOIN systems ss ON ss.id = r.sender_system_id JOIN systems rs ON rs.id = r.recipient_system_id
       JOIN authorities a ON a.id = r.authority_id
      WHERE r.removed_at IS NULL AND ($1::int IS NULL OR r.sender_system_id = $1) AND ($2::int IS NULL OR r.recipient_system_id = $2)
        AND ($3::int IS NULL OR r.authority_id = $3)
      ORDER BY r.id`,
    [sender?.id ?? null, recipient?.id ?? null, authority?.id ?? null],
  );
  return rows;
}
