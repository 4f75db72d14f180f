import type { Queryable } from '../db/pool.js';

/** SPEC §5 1205: in production a system needs an approved agreement per service and authority. */
export async function hasApprovedAgreement(db: Queryable, systemId: number, service: 'send' | 'fetch', authorityId: number): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM agreements WHERE system_id = $1 AND service = $2 AND authority_id = $3 AND status = 'approved' LIMIT 1`,
    [systemId, service, authorityId],
  );
  return rows.length > 0;
}
