import type { Queryable } from '../../db/pool.js';

/** One step of a transfer's journey, for `transfer show` (table transfer_steps). */
export interface Step {
  step: string;
  at: Date;
  detail?: Record<string, unknown>;
}

/**
 * Every row of transfer_steps is written through `insertStepsSql` (inside a state change's statement)
 * or `recordSteps`.
 *
 * Steps that have no transaction of their own (a file moved, a link made) are collected here and
 * written with the next state change, in its statement: one round trip, and a step is on record
 * exactly when the state that follows it is.
 */
export class StepLog {
  private pending: Step[] = [];

  add(step: string, detail?: Record<string, unknown>): void {
    this.pending.push({ step, at: new Date(), detail });
  }

  /** The collected steps as JSON for `jsonb_to_recordset` (see STEPS_FROM_JSON), emptying the log. */
  take(): string {
    const json = JSON.stringify(this.pending);
    this.pending = [];
    return json;
  }
}

/** Writes the collected steps on their own (for a change recorded by a statement of its own, e.g. a retry). */
export async function recordSteps(db: Queryable, transferId: string, steps: StepLog): Promise<void> {
  await db.query(insertStepsSql('$1', '$2'), [transferId, steps.take()]);
}

/** SQL that inserts the steps of a StepLog.take() JSON parameter for one transfer (use inside a CTE). */
export function insertStepsSql(transferParam: string, stepsParam: string, onlyIf = 'true'): string {
  return `INSERT INTO transfer_steps (transfer_id, step, at, detail)
          SELECT ${transferParam}, s.step, s.at, s.detail FROM jsonb_to_recordset(${stepsParam}::jsonb) AS s(step text, at timestamptz, detail jsonb)
           WHERE ${onlyIf}
          ON CONFLICT DO NOTHING`;
}

/** SQL for one audit row (SPEC §9), written in the same statement as the change (use inside a CTE). */
export function insertAuditSql(transferParam: string, action: string, beforeJson: string, afterJson: string, onlyIf = 'true'): string {
  return `INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
          SELECT 'router', '${action}', 'transfer', ${transferParam}::text, ${beforeJson}, ${afterJson} WHERE ${onlyIf}`;
}

export async function transferSteps(db: Queryable, transferId: string): Promise<Step[]> {
  const { rows } = await db.query<Step>('SELECT step, at, detail FROM transfer_steps WHERE transfer_id = $1 ORDER BY at, step', [transferId]);
  return rows;
}
