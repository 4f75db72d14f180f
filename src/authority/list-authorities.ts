import type { Queryable } from '../db/pool.js';
import type { AuthorityRow } from './find-authority.js';

/** Municipalities first in kommunekode order, then the authorities operators added, by name. */
export async function listAuthorities(db: Queryable): Promise<AuthorityRow[]> {
  const { rows } = await db.query<AuthorityRow>(
    `SELECT id, cvr, name, kommunekode, folder FROM authorities ORDER BY kommunekode IS NULL, kommunekode, name`,
  );
  return rows;
}
