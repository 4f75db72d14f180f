import type { Queryable } from '../db/pool.js';
import { requireSystem } from '../systems/require-system.js';
import { findDeclaration, type DeclarationRow } from './declaration.js';
import { INFREF_SELECT, requireInfRef, type InfRefRow } from './require-infref.js';

export interface InfRefListOptions {
  owner?: string;
  vendorId?: number;
  /** Keyset paging (the API): the versions after this one (by number, then version), at most `limit`. */
  after?: { number: number; version: number };
  limit?: number;
}

/** Every version, by number; `owner` (a system) or `vendorId` (the portal's scope: its systems' InfRefs) narrows it. */
export async function listInfRefs(db: Queryable, opts: InfRefListOptions = {}): Promise<InfRefRow[]> {
  const owner = opts.owner === undefined ? undefined : await requireSystem(db, opts.owner, 'owner system');
  const { rows } = await db.query<InfRefRow>(
    `${INFREF_SELECT} WHERE ($1::int IS NULL OR i.owner_system_id = $1) AND ($2::int IS NULL OR s.vendor_id = $2)
        AND ($3::int IS NULL OR (i.number, i.version) > ($3, $4)) ORDER BY i.number, i.version LIMIT $5`,
    [owner?.id ?? null, opts.vendorId ?? null, opts.after?.number ?? null, opts.after?.version ?? null, opts.limit ?? null],
  );
  return rows;
}

export interface InfRefWithDeclaration extends InfRefRow {
  declaration: Omit<DeclarationRow, 'infref'> | null;
}

/** listInfRefs with each version's declaration (the portal's InfRefs page and API). */
export async function listInfRefsWithDeclarations(db: Queryable, opts: InfRefListOptions = {}): Promise<InfRefWithDeclaration[]> {
  const infrefs = await listInfRefs(db, opts);
  const { rows } = await db.query<Omit<DeclarationRow, 'infref'> & { infrefId: number }>(
    `SELECT g.infref_id AS "infrefId", g.status, g.document_name AS "documentName", g.document_sha256 AS "documentSha256", d.content_type AS "documentType",
            d.size_bytes AS "documentSize", g.reason, g.received_by AS "receivedBy", g.received_at AS "receivedAt", g.decided_by AS "decidedBy", g.decided_at AS "decidedAt"
       FROM gdpr_declarations g LEFT JOIN declaration_documents d ON d.id = g.document_id WHERE g.infref_id = ANY($1)`,
    [infrefs.map((i) => i.id)],
  );
  const byInfRef = new Map(rows.map(({ infrefId, ...d }) => [infrefId, d]));
  return infrefs.map((i) => ({ ...i, declaration: byInfRef.get(i.id) ?? null }));
}

export interface InfRefDetails extends InfRefRow {
  declaration: Omit<DeclarationRow, 'infref'> | null;
  versions: Array<{ name: string; status: string; declarationStatus: string | null }>;
  routes: Array<{ id: number; sender: string; recipient: string; authority: string; validFrom: string | null; validTo: string | null }>;
}

/** `infref show`: the version, its declaration, its siblings, and the routes of its number. */
export async function showInfRef(db: Queryable, text: string): Promise<InfRefDetails> {
  const infref = await requireInfRef(db, text);
  const declaration = (await findDeclaration(db, infref.id)) ?? null;
  const versions = await db.query(`${INFREF_SELECT} WHERE i.number = $1 ORDER BY i.version`, [infref.number]);
  const routes = await db.query(
    `SELECT r.id, ss.username AS sender, rs.username AS recipient, coalesce(a.kommunekode || ' ', '') || a.name AS authority,
            r.valid_from AS "validFrom", r.valid_to AS "validTo"
       FROM routes r JOIN systems ss ON ss.id = r.sender_system_id JOIN systems rs ON rs.id = r.recipient_system_id
       JOIN authorities a ON a.id = r.authority_id
      WHERE r.removed_at IS NULL AND r.infref_number = $1 ORDER BY r.id`,
    [infref.number],
  );
  return {
    ...infref,
    declaration,
    versions: versions.rows.map((v: InfRefRow) => ({ name: v.name, status: v.status, declarationStatus: v.declarationStatus })),
    routes: routes.rows,
  };
}
