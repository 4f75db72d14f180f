import { requireAuthority } from '../authority/require-authority.js';
import type { Queryable } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { parseId } from '../routes/remove-route.js';
import { requireSystem } from '../systems/require-system.js';
import { parseAgreementStatus, type AgreementService, type AgreementStatus } from './agreement-states.js';

/** A service agreement as the CLI and the portal show it (SPEC §11's shape is made from this). */
export interface AgreementRow {
  id: number;
  system: string;
  systemId: number;
  vendor: string;
  vendorId: number;
  service: AgreementService;
  authorityId: number;
  authority: string;
  kommunekode: string | null;
  cvr: string | null;
  status: AgreementStatus;
  /** Why it was rejected, approved or terminated. */
  reason: string | null;
  requestedBy: string;
  requestedAt: Date;
  /** Who approved, rejected or withdrew it. */
  decidedBy: string | null;
  decidedAt: Date | null;
  terminatedBy: string | null;
  terminatedAt: Date | null;
  /** 'YYYY-MM-DD': the first day a terminated agreement no longer counts. */
  effective: string | null;
}

const SELECT = `SELECT g.id, s.username AS system, s.id AS "systemId", v.name AS vendor, v.id AS "vendorId", g.service,
       a.id AS "authorityId", a.name AS authority, a.kommunekode, a.cvr, g.status,
       coalesce(g.termination_reason, g.reason) AS reason, g.requested_by AS "requestedBy", g.requested_at AS "requestedAt",
       g.decided_by AS "decidedBy", g.decided_at AS "decidedAt", g.terminated_by AS "terminatedBy", g.terminated_at AS "terminatedAt",
       g.effective_on AS effective
  FROM agreements g JOIN systems s ON s.id = g.system_id JOIN vendors v ON v.id = s.vendor_id JOIN authorities a ON a.id = g.authority_id`;

/** An agreement id as people type it: a positive whole number. */
export function parseAgreementId(text: string | number): number {
  return parseId(String(text), 'Agreement');
}

export async function findAgreement(db: Queryable, id: number): Promise<AgreementRow | undefined> {
  const { rows } = await db.query<AgreementRow>(`${SELECT} WHERE g.id = $1`, [id]);
  return rows[0];
}

/** The agreement, locked for a change in this transaction, or a refusal naming the id. */
export async function lockAgreement(db: Queryable, id: number): Promise<AgreementRow> {
  const locked = await db.query('SELECT 1 FROM agreements WHERE id = $1 FOR UPDATE', [id]);
  const row = locked.rows.length > 0 ? await findAgreement(db, id) : undefined;
  if (!row) throw new RefusedError(`Unknown agreement ${id} (see 'filudveksling agreement list').`, { code: 'agreement-unknown', values: { id } });
  return row;
}

export interface AgreementFilter {
  system?: string;
  authority?: string;
  status?: string;
  /** Scopes for the portal: only this vendor's systems / this authority's agreements. */
  vendorId?: number;
  authorityId?: number;
  /** Keyset paging: agreements with a larger id than this, at most `limit`. */
  after?: number;
  limit?: number;
}

/** `agreement list [--system] [--authority] [--status]`, oldest first. */
export async function listAgreements(db: Queryable, filter: AgreementFilter = {}): Promise<AgreementRow[]> {
  const status = filter.status === undefined ? undefined : parseAgreementStatus(filter.status);
  const system = filter.system === undefined ? undefined : await requireSystem(db, filter.system);
  const authority = filter.authority === undefined ? undefined : await requireAuthority(db, filter.authority, '--authority');
  const { rows } = await db.query<AgreementRow>(
    `${SELECT} WHERE ($1::int IS NULL OR g.system_id = $1) AND ($2::text IS NULL OR g.status = $2) AND ($3::int IS NULL OR g.authority_id = $3)
        AND ($4::int IS NULL OR s.vendor_id = $4) AND ($5::int IS NULL OR g.authority_id = $5) AND ($6::int IS NULL OR g.id > $6)
      ORDER BY g.id LIMIT $7`,
    [system?.id ?? null, status ?? null, authority?.id ?? null, filter.vendorId ?? null, filter.authorityId ?? null, filter.after ?? null, filter.limit ?? null],
  );
  return rows;
}
