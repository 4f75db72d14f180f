import type { Queryable } from '../db/pool.js';
import { danishDay } from './danish-day.js';

/**
 * SPEC §5 1205: in production a system needs, per service and authority, an agreement that is
 * approved — or terminated with an effective day still to come — on `onDay` ('YYYY-MM-DD', the
 * transfer's day in Danish time; default today).
 */
export async function hasApprovedAgreement(db: Queryable, systemId: number, service: 'send' | 'fetch', authorityId: number, onDay: string = danishDay()): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM agreements a
      WHERE a.system_id = $1 AND a.service = $2 AND a.authority_id = $3 AND ${agreementHoldsSql('a', '$4')} LIMIT 1`,
    [systemId, service, authorityId, onDay],
  );
  return rows.length > 0;
}

/** The rule above as SQL, for a query that asks it of many agreements at once (the router's decision). */
export function agreementHoldsSql(alias: string, daySql: string): string {
  return `(${alias}.status = 'approved' OR (${alias}.status = 'terminated' AND ${alias}.effective_on > ${daySql}::date))`;
}
