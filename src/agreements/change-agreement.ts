import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { UsageError } from '../errors.js';
import { agreementDecidedNotice } from '../notices/event-notices.js';
import { parseDay } from '../routes/validity-day.js';
import { findAgreement, lockAgreement, parseAgreementId, type AgreementRow } from './agreement-row.js';
import { AGREEMENT_ACTIONS, AgreementStateError, type AgreementAction } from './agreement-states.js';
import { danishDay } from './danish-day.js';

export interface ChangeInput {
  reason?: string;
  /** terminate: the first day it no longer counts, 'YYYY-MM-DD' (default today). */
  effective?: string;
  /** The clock: tests set it instead of waiting for a day to pass. */
  now?: Date;
}

/** How long a reason may be (a rejection's, a termination's; the portal's forms and the API take as much). */
export const REASON_MAX_LENGTH = 2000;

/**
 * One step of SPEC §11's lifecycle, audited in its transaction: approve or reject (the authority),
 * withdraw (the vendor, while still requested), terminate (the authority; opsigelse from an
 * effective day, today or later). A step asked in the wrong state is refused naming the state.
 */
export async function changeAgreement(pool: Pool, idText: string | number, action: AgreementAction, input: ChangeInput, by: string): Promise<AgreementRow> {
  const id = parseAgreementId(idText);
  const reason = input.reason?.trim() || null;
  if (reason && reason.length > REASON_MAX_LENGTH) {
    throw new UsageError(`The reason is ${reason.length} characters; keep it to ${REASON_MAX_LENGTH}.`, { code: 'reason-too-long', values: { length: reason.length, max: REASON_MAX_LENGTH } });
  }
  if (!reason && (action === 'reject' || action === 'terminate')) {
    throw new UsageError(`Give the reason for ${action === 'reject' ? 'rejecting' : 'terminating'} agreement ${id} with --reason "…" (the vendor is told it).`, { code: 'reason-missing' });
  }
  const today = danishDay(input.now);
  const effective = action === 'terminate' ? (input.effective === undefined ? today : parseDay(input.effective, '--effective')) : null;
  if (effective !== null && effective < today) {
    throw new UsageError(`--effective ${effective} is in the past; a termination takes effect today (${today}) or on a later day.`, { code: 'agreement-effective-past', values: { effective, today } });
  }
  if (input.effective !== undefined && action !== 'terminate') throw new UsageError('--effective goes with terminate.', { code: 'agreement-effective-not-terminate' });
  const step = AGREEMENT_ACTIONS[action];
  return inTransaction(pool, async (db) => {
    const before = await lockAgreement(db, id);
    if (before.status !== step.from) {
      throw new AgreementStateError(id, before.status, action, before.status === 'terminated' ? `from ${before.effective}` : before.reason);
    }
    if (action === 'terminate') {
      await db.query(
        `UPDATE agreements SET status = 'terminated', termination_reason = $2, effective_on = $3, terminated_by = $4, terminated_at = now() WHERE id = $1`,
        [id, reason, effective, by],
      );
    } else {
      await db.query('UPDATE agreements SET status = $2, reason = $3, decided_by = $4, decided_at = now() WHERE id = $1', [id, step.to, reason, by]);
    }
    const after = (await findAgreement(db, id))!;
    await agreementDecidedNotice(db, after);
    await audit(db, {
      actor: by,
      action: `agreement.${action}`,
      entity: 'agreement',
      entityId: id,
      before: { status: before.status },
      after: { status: after.status, reason: after.reason, ...(effective ? { effective } : {}) },
    });
    return after;
  });
}

export const approveAgreement = (pool: Pool, id: string | number, input: ChangeInput, by: string) => changeAgreement(pool, id, 'approve', input, by);
export const rejectAgreement = (pool: Pool, id: string | number, input: ChangeInput, by: string) => changeAgreement(pool, id, 'reject', input, by);
export const withdrawAgreement = (pool: Pool, id: string | number, by: string) => changeAgreement(pool, id, 'withdraw', {}, by);
export const terminateAgreement = (pool: Pool, id: string | number, input: ChangeInput, by: string) => changeAgreement(pool, id, 'terminate', input, by);

/** approve | reject as the first CLI had it (kept for callers of that shape). */
export function decideAgreement(pool: Pool, idText: string, decision: 'approve' | 'reject', reason: string | undefined, by: string): Promise<AgreementRow> {
  return changeAgreement(pool, idText, decision, { reason }, by);
}
