import { audit } from '../audit/audit.js';
import { authorityLabel, requireAuthority } from '../authority/require-authority.js';
import type { AuthorityRow } from '../authority/find-authority.js';
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { agreementRequestedNotice } from '../notices/event-notices.js';
import { requireSystem } from '../systems/require-system.js';
import { findAgreement, type AgreementRow } from './agreement-row.js';
import { parseService } from './agreement-states.js';

/** Every municipality at once (SPEC §11 `authorities: "all-municipalities"`). */
export const ALL_MUNICIPALITIES = 'all-municipalities';

export interface AgreementRequest {
  system: string;
  service: string;
  /** kommunekoder and CVR numbers, or every municipality. */
  authorities: string[] | typeof ALL_MUNICIPALITIES;
}

/**
 * A system asks one or more authorities for the send or fetch service: one agreement per authority,
 * `requested`, all in one transaction. Named authorities that already hold a pending or approved
 * agreement for it refuse the whole request (naming them); "all municipalities" asks those that do
 * not, and is refused only when none is left.
 */
export async function requestAgreements(pool: Pool, input: AgreementRequest, by: string): Promise<AgreementRow[]> {
  const service = parseService(input.service);
  const all = input.authorities === ALL_MUNICIPALITIES;
  if (!all && (!Array.isArray(input.authorities) || input.authorities.length === 0)) {
    throw new UsageError(`Name at least one authority (kommunekode or CVR number), or ask all municipalities at once.`, { code: 'agreement-authorities-missing' });
  }
  return inTransaction(pool, async (db) => {
    const system = await requireSystem(db, input.system);
    const authorities = all ? await municipalities(db) : await named(db, input.authorities as string[]);
    // One system's requests wait for each other, so two at once cannot both find "none open".
    await db.query('SELECT pg_advisory_xact_lock(7352060, $1)', [system.id]);
    const { rows: open } = await db.query<{ id: number; status: string; authorityId: number }>(
      `SELECT id, status, authority_id AS "authorityId" FROM agreements
        WHERE system_id = $1 AND service = $2 AND authority_id = ANY($3) AND status IN ('requested', 'approved') ORDER BY id`,
      [system.id, service, authorities.map((a) => a.id)],
    );
    const openFor = new Map(open.map((o) => [o.authorityId, o]));
    if (!all && open.length > 0) {
      const list = authorities.filter((a) => openFor.has(a.id)).map((a) => `agreement ${openFor.get(a.id)!.id} (${openFor.get(a.id)!.status}) with ${authorityLabel(a)}`);
      const names = authorities.filter((a) => openFor.has(a.id)).map((a) => authorityLabel(a)).join(', ');
      throw new RefusedError(`'${system.username}' already has ${list.join(', ')} for the ${service} service; see 'filudveksling agreement list --system ${system.username}'.`, {
        code: 'agreement-open',
        values: { system: system.username, service, authorities: names },
      });
    }
    const asking = authorities.filter((a) => !openFor.has(a.id));
    if (asking.length === 0) {
      throw new RefusedError(`'${system.username}' already has a pending or approved ${service} agreement with every municipality; nothing to request.`, {
        code: 'agreement-open-all',
        values: { system: system.username, service },
      });
    }
    const { rows } = await db.query<{ id: number; authorityId: number }>(
      `INSERT INTO agreements (system_id, service, authority_id, requested_by)
         SELECT $1, $2, unnest($3::int[]), $4 RETURNING id, authority_id AS "authorityId"`,
      [system.id, service, asking.map((a) => a.id), by],
    );
    const made: AgreementRow[] = [];
    for (const r of rows.sort((a, b) => a.id - b.id)) {
      const agreement = (await findAgreement(db, r.id))!;
      await audit(db, { actor: by, action: 'agreement.request', entity: 'agreement', entityId: r.id, after: { system: system.username, service, authority: authorityLabel({ ...agreement, name: agreement.authority }), status: 'requested' } });
      await agreementRequestedNotice(db, agreement);
      made.push(agreement);
    }
    return made;
  });
}

/** One authority: `agreement request --system --service --authority` with a single authority. */
export async function requestAgreement(pool: Pool, input: { system: string; service: string; authority: string }, by: string): Promise<AgreementRow> {
  const [made] = await requestAgreements(pool, { system: input.system, service: input.service, authorities: [input.authority] }, by);
  return made!;
}

async function named(db: PoolClient, texts: string[]): Promise<AuthorityRow[]> {
  const found = new Map<number, AuthorityRow>();
  for (const text of texts) {
    const a = await requireAuthority(db, text, '--authority');
    found.set(a.id, a);
  }
  return [...found.values()];
}

async function municipalities(db: PoolClient): Promise<AuthorityRow[]> {
  const { rows } = await db.query<AuthorityRow>('SELECT id, cvr, name, kommunekode, folder FROM authorities WHERE kommunekode IS NOT NULL ORDER BY kommunekode');
  return rows;
}
