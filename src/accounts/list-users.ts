import type { Queryable } from '../db/pool.js';
import type { Role } from './roles.js';

export interface UserListRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  vendor: string | null;
  authority: string | null;
  disabled: boolean;
  /** false until the invitation has been accepted. */
  active: boolean;
  createdAt: Date;
}

/** People, optionally of one vendor or authority (by id), ordered by e-mail. */
export async function listUsers(db: Queryable, filter: { vendorId?: number; authorityId?: number } = {}): Promise<UserListRow[]> {
  const { rows } = await db.query<UserListRow>(
    `SELECT u.id, u.email, u.name, u.role, v.name AS vendor,
            CASE WHEN a.id IS NULL THEN NULL WHEN a.kommunekode IS NOT NULL THEN a.kommunekode || ' ' || a.name ELSE a.name END AS authority,
            u.disabled, u.password_hash IS NOT NULL AS active, u.created_at AS "createdAt"
       FROM users u LEFT JOIN vendors v ON v.id = u.vendor_id LEFT JOIN authorities a ON a.id = u.authority_id
      WHERE ($1::int IS NULL OR u.vendor_id = $1) AND ($2::int IS NULL OR u.authority_id = $2)
      ORDER BY u.email`,
    [filter.vendorId ?? null, filter.authorityId ?? null],
  );
  return rows;
}
