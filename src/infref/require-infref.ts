import type { Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { formatInfRef, INFREF_FORM_HINT, parseInfRef, type InfRefName } from './infref-name.js';

export interface InfRefRow {
  id: number;
  name: string;
  number: number;
  version: number;
  ownerSystemId: number;
  owner: string;
  /** The owner's vendor: whose people see it in the portal. */
  ownerVendorId: number;
  title: string | null;
  status: 'active' | 'revoked' | 'superseded';
  statusReason: string | null;
  createdAt: Date;
  declarationStatus: 'pending' | 'approved' | 'rejected' | null;
}

export const INFREF_SELECT = `SELECT i.id, 'FagsystemdefineredeDataRefGDPR' || i.number || '_' || i.version AS name, i.number, i.version,
       i.owner_system_id AS "ownerSystemId", s.username AS owner, s.vendor_id AS "ownerVendorId", i.title, i.status, i.status_reason AS "statusReason",
       i.created_at AS "createdAt", d.status AS "declarationStatus"
  FROM infrefs i JOIN systems s ON s.id = i.owner_system_id LEFT JOIN gdpr_declarations d ON d.infref_id = i.id`;

/** The printed form, or bad usage that shows the right form. */
export function parseInfRefArg(text: string): InfRefName {
  const ref = parseInfRef(text);
  if (!ref) throw new UsageError(`'${text}' is not an InfRef: write it as ${INFREF_FORM_HINT}.`, { code: 'infref-invalid', values: { text } });
  return ref;
}

export async function findInfRef(db: Queryable, ref: InfRefName, opts: { forUpdate?: boolean } = {}): Promise<InfRefRow | undefined> {
  const { rows } = await db.query<InfRefRow>(`${INFREF_SELECT} WHERE i.number = $1 AND i.version = $2${opts.forUpdate ? ' FOR UPDATE OF i' : ''}`, [ref.number, ref.version]);
  return rows[0];
}

/** The InfRef named by `text`, or a refusal saying what exists. */
export async function requireInfRef(db: Queryable, text: string, opts: { forUpdate?: boolean } = {}): Promise<InfRefRow> {
  const ref = parseInfRefArg(text);
  const row = await findInfRef(db, ref, opts);
  if (row) return row;
  const { rows } = await db.query<{ version: number }>('SELECT max(version) AS version FROM infrefs WHERE number = $1', [ref.number]);
  const latest = rows[0]?.version;
  const infref = formatInfRef(ref);
  throw latest
    ? new RefusedError(
        `Unknown InfRef ${infref}: InfRef ${ref.number} exists only up to version ${latest} (${formatInfRef({ number: ref.number, version: latest })}); make a new version with 'filudveksling infref new-version'.`,
        { code: 'infref-version-unknown', values: { infref, number: ref.number, latest: formatInfRef({ number: ref.number, version: latest }) } },
      )
    : new RefusedError(`Unknown InfRef ${infref}: no InfRef has number ${ref.number} (see 'filudveksling infref list'; issue one with 'filudveksling infref issue --owner <system>').`, {
        code: 'infref-unknown',
        values: { infref, number: ref.number },
      });
}
