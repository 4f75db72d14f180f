import type { Queryable } from '../db/pool.js';
import { AUTHORITY_COLUMNS, type AuthorityRow } from './find-authority.js';

/** Municipalities first in kommunekode order, then the authorities operators added, by name. */
export async function listAuthorities(db: Queryable): Promise<AuthorityRow[]> {
  const { rows } = await db.query<AuthorityRow>(
    `SELECT ${AUTHORITY_COLUMNS} FROM authorities ORDER BY kommunekode IS NULL, kommunekode, name`,
  );
  return rows;
}
