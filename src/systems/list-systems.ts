import type { Queryable } from '../db/pool.js';
import type { SystemRow } from './find-system.js';
import { listSystemKeys, type SystemKeyRow } from './system-keys.js';
import { requireSystem } from './require-system.js';

export interface SystemListRow extends SystemRow {
  vendor: string;
  activeKeys: number;
  createdAt: Date;
}

/**
 * Systems by user name; `vendor` (name) or `vendorId` (the portal's scope) keeps one vendor's.
 * Keyset paging (the API): those after the user name `after`, at most `limit`.
 */
export async function listSystems(db: Queryable, opts: { vendor?: string; vendorId?: number; after?: string; limit?: number } = {}): Promise<SystemListRow[]> {
  const { rows } = await db.query<SystemListRow>(
    `SELECT s.id, s.username, s.uuid::text AS uuid, s.vendor_id AS "vendorId", s.enabled,
            s.inbox_layout AS "inboxLayout", s.metadata_format AS "metadataFormat", s.created_at AS "createdAt",
            v.name AS vendor,
            (SELECT count(*)::int FROM system_keys k WHERE k.system_id = s.id AND k.removed_at IS NULL) AS "activeKeys"
       FROM systems s JOIN vendors v ON v.id = s.vendor_id
      WHERE ($1::text IS NULL OR v.name = $1) AND ($2::int IS NULL OR v.id = $2) AND ($3::text IS NULL OR s.username > $3)
      ORDER BY s.username LIMIT $4`,
    [opts.vendor ?? null, opts.vendorId ?? null, opts.after ?? null, opts.limit ?? null],
  );
  return rows;
}

export interface SystemDetails extends SystemListRow {
  keys: SystemKeyRow[];
  infrefs: Array<{ name: string; status: string; declaration: string | null }>;
  routes: Array<{ id: number; direction: 'send' | 'receive'; infref: number; other: string; authority: string; validFrom: string | null; validTo: string | null }>;
  agreements: Array<{ id: number; service: string; authority: string; status: string }>;
}

/** `system show`: the system with its keys (removed ones too), InfRefs, routes and agreements. */
export async function showSystem(db: Queryable, username: string): Promise<SystemDetails> {
  const system = await requireSystem(db, username);
  const [row] = (await listSystems(db)).filter((s) => s.id === system.id);
  const keys = await listSystemKeys(db, system.id, { includeRemoved: true });
  const infrefs = await db.query(
    `SELECT 'FagsystemdefineredeDataRefGDPR' || i.number || '_' || i.version AS name, i.status, d.status AS declaration
       FROM infrefs i LEFT JOIN gdpr_declarations d ON d.infref_id = i.id
      WHERE i.owner_system_id = $1 ORDER BY i.number, i.version`,
    [system.id],
  );
  const routes = await db.query(
    `SELECT r.id, CASE WHEN r.sender_system_id = $1 THEN 'send' ELSE 'receive' END AS direction, r.infref_number AS infref,
            CASE WHEN r.sender_system_id = $1 THEN rs.username ELSE ss.username END AS other,
            coalesce(a.kommunekode || ' ', '') || a.name AS authority, r.valid_from AS "validFrom", r.valid_to AS "validTo"
       FROM routes r JOIN systems ss ON ss.id = r.sender_system_id JOIN systems rs ON rs.id = r.recipient_system_id
       JOIN authorities a ON a.id = r.authority_id
      WHERE r.removed_at IS NULL AND (r.sender_system_id = $1 OR r.recipient_system_id = $1) ORDER BY r.id`,
    [system.id],
  );
  const agreements = await db.query(
    `SELECT g.id, g.service, coalesce(a.kommunekode || ' ', '') || a.name AS authority, g.status
       FROM agreements g JOIN authorities a ON a.id = g.authority_id WHERE g.system_id = $1 ORDER BY g.id`,
    [system.id],
  );
  return { ...row!, keys, infrefs: infrefs.rows, routes: routes.rows, agreements: agreements.rows };
}
