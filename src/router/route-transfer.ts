import type { PoolClient } from '../db/pool.js';
import { log as rootLog } from '../log.js';
import { findSystemByUsername, type SystemRow } from '../systems/find-system.js';
import { decideStep } from './decide-step.js';
import { deliverStep } from './deliver-step.js';
import { writeFailureReceipt } from './fail-transfer.js';
import type { KnownTransfer } from './intake/receive-trigger.js';
import { rejectStep } from './reject-step.js';
import { findTransfer } from './sql/find-transfer.js';
import type { TransferRow } from './sql/transfer-row.js';
import { StepLog } from './sql/transfer-steps.js';
import type { RouterDeps, StepContext } from './step-context.js';
import type { TransferLock } from './transfer-lock.js';

/**
 * Drives one transfer from whatever state the database says it is in to the end of its journey
 * (transfer-states.ts):
 *
 *   received ──decide──▶ delivering ──deliver──▶ delivered (finished)     decide-step.ts, deliver-step.ts
 *       └──────────────▶ rejected | resent ──quarantine, receipt──▶ (finished)   reject-step.ts
 *   validated (a failed transfer retried by the operator) ──deliver──▶ delivered
 *
 * Every step is idempotent and recorded before the next one starts, so a job run again (after a
 * crash, on another node) takes up where the last one stopped and does nothing twice. The caller
 * holds the transfer's lock (`lock`). `known`: what receiving the trigger just learnt.
 */
export async function routeTransfer(deps: RouterDeps, client: PoolClient, lock: TransferLock, transferId: string, known?: KnownTransfer): Promise<void> {
  const t = known?.transfer.id === transferId ? known.transfer : await findTransfer(client, transferId);
  if (!t) throw new Error(`Transfer ${transferId} is not in the database`);
  if (t.finishedAt) return;
  const ctx: StepContext = { deps, client, lock, steps: new StepLog(), log: rootLog.child({ op: 'route', transferId, system: t.senderUsername }) };
  switch (t.status) {
    case 'received': {
      const sender = known?.sender.id === t.senderSystemId ? known.sender : await senderOf(client, t);
      const decided = await decideStep(ctx, t, sender, known?.trigger);
      if (decided.status === 'validated') await deliverStep(ctx, decided.transfer, decided);
      else await rejectStep(ctx, decided.transfer);
      return;
    }
    case 'validated':
    case 'delivering':
      await deliverStep(ctx, t);
      return;
    case 'rejected':
    case 'resent':
      await rejectStep(ctx, t);
      return;
    case 'failed': // waits for the operator's `transfer retry`, its receipt written (a node may have died first)
      if (t.failureReceiptOwed && t.receiptXml) await writeFailureReceipt(deps, client, t, t.receiptXml);
      return;
    case 'delivered': // finished in the statement that delivered it
    case 'expired':
      return;
  }
}

async function senderOf(client: PoolClient, t: TransferRow): Promise<SystemRow> {
  const s = await findSystemByUsername(client, t.senderUsername);
  if (!s) throw new Error(`The sender of transfer ${t.id} (${t.senderUsername}) is gone from the database`);
  return s;
}
