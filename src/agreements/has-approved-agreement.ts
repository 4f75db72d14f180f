import type { Queryable } from '../db/pool.js';
import { danishDay } from './danish-day.js';

/**
 * SPEC §5 1205: in production a system needs, per service and authority, an agreement that is
 * approved — or terminated with an effective day still to come — on `onDay` ('YYYY-MM-DD', the
 * transfer's day in Danish time; default today).
 */
export async function hasApprovedAgreement(db: Queryable, systemId: number, service: 'send' | 'fetch', authorityId: number, onDay: string = danishDay()): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM agreements
      WHERE system_id = $1 AND service = $2 AND authority_id = $3
        AND (status = 'approved' OR (status = 'terminated' AND effective_on > $4::date)) LIMIT 1`,
    [systemId, service, authorityId, onDay],
  );
  return rows.length > 0;
}
