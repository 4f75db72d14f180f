import type { Queryable } from '../db/pool.js';
import type { AuthorityRef } from './authority-ref.js';

/** An authority (myndighed): a municipality (with kommunekode) or one an operator added. */
export interface AuthorityRow {
  id: number;
  cvr: string | null;
  name: string;
  kommunekode: string | null;
  folder: string;
  /** Inhabitants as last set (`authority update --inhabitants`); the buffet price multiplies by it (SPEC §13). */
  inhabitants: number | null;
}

export const AUTHORITY_COLUMNS = 'id, cvr, name, kommunekode, folder, inhabitants';
const COLUMNS = AUTHORITY_COLUMNS;

export async function findAuthority(db: Queryable, ref: AuthorityRef): Promise<AuthorityRow | undefined> {
  if (ref.kind === 'cvr') return findAuthorityByCvr(db, ref.cvr);
  const { rows } = await db.query<AuthorityRow>(`SELECT ${COLUMNS} FROM authorities WHERE kommunekode = $1`, [ref.kommunekode.padStart(4, '0')]);
  return rows[0];
}

export async function findAuthorityByCvr(db: Queryable, cvr: string): Promise<AuthorityRow | undefined> {
  if (!/^[0-9]{8}$/.test(cvr.trim())) return undefined;
  const { rows } = await db.query<AuthorityRow>(`SELECT ${COLUMNS} FROM authorities WHERE cvr = $1`, [cvr.trim()]);
  return rows[0];
}
