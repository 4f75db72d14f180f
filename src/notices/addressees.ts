import type { Queryable } from '../db/pool.js';
import type { Addressee } from './record-notice.js';

const COLUMNS = `id AS "userId", email, language`;

/** Active admins of a vendor (SPEC §12: agreement decisions, declarations, failures, digests). */
export async function vendorAdmins(db: Queryable, vendorId: number): Promise<Addressee[]> {
  const r = await db.query<Addressee>(`SELECT ${COLUMNS} FROM users WHERE role = 'vendor-admin' AND vendor_id = $1 AND NOT disabled ORDER BY id`, [vendorId]);
  return r.rows;
}

/** Active admins of an authority (agreement requested). */
export async function authorityAdmins(db: Queryable, authorityId: number): Promise<Addressee[]> {
  const r = await db.query<Addressee>(`SELECT ${COLUMNS} FROM users WHERE role = 'authority-admin' AND authority_id = $1 AND NOT disabled ORDER BY id`, [authorityId]);
  return r.rows;
}

/** Active operators (transfer failed). */
export async function operators(db: Queryable): Promise<Addressee[]> {
  const r = await db.query<Addressee>(`SELECT ${COLUMNS} FROM users WHERE role = 'operator' AND NOT disabled ORDER BY id`);
  return r.rows;
}
