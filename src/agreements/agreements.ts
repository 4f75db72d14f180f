import { audit } from '../audit/audit.js';
import { authorityLabel, requireAuthority } from '../authority/require-authority.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { parseId } from '../routes/remove-route.js';
import { requireSystem } from '../systems/require-system.js';

/**
 * Service agreements (serviceaftaler, SPEC §1): an authority's approval that a system may use
 * the send or fetch service. requested → approved | rejected; a decision is final (a rejected
 * system asks again with a new request).
 */
export interface AgreementRow {
  id: number;
  system: string;
  service: 'send' | 'fetch';
  authority: string;
  kommunekode: string | null;
  cvr: string | null;
  status: 'requested' | 'approved' | 'rejected';
  reason: string | null;
  requestedBy: string;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

const SELECT = `SELECT g.id, s.username AS system, g.service, a.name AS authority, a.kommunekode, a.cvr, g.status, g.reason,
       g.requested_by AS "requestedBy", g.requested_at AS "requestedAt", g.decided_by AS "decidedBy", g.decided_at AS "decidedAt"
  FROM agreements g JOIN systems s ON s.id = g.system_id JOIN authorities a ON a.id = g.authority_id`;

export function parseService(text: string): 'send' | 'fetch' {
  if (text !== 'send' && text !== 'fetch') throw new UsageError(`--service '${text}' is not a service: use 'send' or 'fetch'.`);
  return text;
}

export async function requestAgreement(pool: Pool, input: { system: string; service: string; authority: string }, by: string): Promise<AgreementRow> {
  const service = parseService(input.service);
  return inTransaction(pool, async (db) => {
    const system = await requireSystem(db, input.system);
    const authority = await requireAuthority(db, input.authority, '--authority');
    await db.query('SELECT pg_advisory_xact_lock($1, $2)', [system.id, authority.id]);
    const { rows: open } = await db.query<{ id: number; status: string }>(
      `SELECT id, status FROM agreements WHERE system_id = $1 AND service = $2 AND authority_id = $3 AND status IN ('requested', 'approved') ORDER BY id LIMIT 1`,
      [system.id, service, authority.id],
    );
    if (open[0]) {
      throw new RefusedError(`'${system.username}' already has agreement ${open[0].id} (${open[0].status}) for the ${service} service with ${authorityLabel(authority)}; see 'filudveksling agreement list'.`);
    }
    const { rows } = await db.query<{ id: number }>(
      'INSERT INTO agreements (system_id, service, authority_id, requested_by) VALUES ($1, $2, $3, $4) RETURNING id',
      [system.id, service, authority.id, by],
    );
    const agreement = (await findAgreement(db, rows[0]!.id))!;
    await audit(db, { actor: by, action: 'agreement.request', entity: 'agreement', entityId: agreement.id, after: { system: system.username, service, authority: authorityLabel(authority) } });
    return agreement;
  });
}

export async function findAgreement(db: Queryable, id: number): Promise<AgreementRow | undefined> {
  const { rows } = await db.query<AgreementRow>(`${SELECT} WHERE g.id = $1`, [id]);
  return rows[0];
}

export async function decideAgreement(pool: Pool, idText: string, decision: 'approve' | 'reject', reason: string | undefined, by: string): Promise<AgreementRow> {
  const id = parseId(idText, 'Agreement');
  return inTransaction(pool, async (db) => {
    const locked = await db.query<{ status: string }>('SELECT status FROM agreements WHERE id = $1 FOR UPDATE', [id]);
    const before = await findAgreement(db, id);
    if (!locked.rows[0] || !before) throw new RefusedError(`Unknown agreement ${id} (see 'filudveksling agreement list').`);
    if (before.status !== 'requested') {
      const again = before.status === 'rejected' ? ` A new request can be made with 'filudveksling agreement request'.` : '';
      throw new RefusedError(`Agreement ${id} is already ${before.status}${before.reason ? ` (${before.reason})` : ''}; it cannot be ${decision}d.${again}`);
    }
    const status = decision === 'approve' ? 'approved' : 'rejected';
    await db.query('UPDATE agreements SET status = $2, reason = $3, decided_by = $4, decided_at = now() WHERE id = $1', [id, status, reason?.trim() || null, by]);
    const after = (await findAgreement(db, id))!;
    await audit(db, { actor: by, action: `agreement.${decision}`, entity: 'agreement', entityId: id, before: { status: before.status }, after: { status, reason: after.reason } });
    return after;
  });
}

export async function listAgreements(db: Queryable, filter: { system?: string; status?: string } = {}): Promise<AgreementRow[]> {
  if (filter.status !== undefined && !['requested', 'approved', 'rejected'].includes(filter.status)) {
    throw new UsageError(`--status '${filter.status}' is not a state: use requested, approved or rejected.`);
  }
  const system = filter.system === undefined ? undefined : await requireSystem(db, filter.system);
  const { rows } = await db.query<AgreementRow>(`${SELECT} WHERE ($1::int IS NULL OR g.system_id = $1) AND ($2::text IS NULL OR g.status = $2) ORDER BY g.id`, [
    system?.id ?? null,
    filter.status ?? null,
  ]);
  return rows;
}
