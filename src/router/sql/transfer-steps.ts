import type { Queryable } from '../../db/pool.js';

/** One step of a transfer's journey, for `transfer show` (table transfer_steps). */
export interface Step {
  step: string;
  at: Date;
  detail?: Record<string, unknown>;
}

/**
 * Steps that have no transaction of their own (a file moved, a link made) are collected here and
 * written with the next state change, in its transaction: one round trip, and a step is on record
 * exactly when the state that follows it is.
 */
export class StepLog {
  private pending: Step[] = [];

  add(step: string, detail?: Record<string, unknown>): void {
    this.pending.push({ step, at: new Date(), detail });
  }

  async flush(db: Queryable, transferId: string): Promise<void> {
    if (this.pending.length === 0) return;
    const steps = this.pending;
    await db.query(
      `INSERT INTO transfer_steps (transfer_id, step, at, detail)
       SELECT $1, s.step, s.at, s.detail FROM jsonb_to_recordset($2::jsonb) AS s(step text, at timestamptz, detail jsonb)
       ON CONFLICT DO NOTHING`,
      [transferId, JSON.stringify(steps)],
    );
    this.pending = [];
  }
}

export async function transferSteps(db: Queryable, transferId: string): Promise<Step[]> {
  const { rows } = await db.query<Step>('SELECT step, at, detail FROM transfer_steps WHERE transfer_id = $1 ORDER BY at, step', [transferId]);
  return rows;
}
