import { join } from 'node:path';
import { transfersTotal } from '../metrics/metrics.js';
import { dataLayout } from '../storage/homes.js';
import { moveTree } from '../storage/move-into.js';
import { failpoint } from './failpoint.js';
import { spoolDir } from './spool.js';
import { recordFinished } from './sql/record-finished.js';
import type { TransferRow } from './sql/transfer-row.js';
import type { StepContext } from './step-context.js';
import { writeReceipt } from './write-receipt.js';

/** rejected | resent → finished: data file and trigger into quarantine/<id>/, then the receipt. */
export async function rejectStep(ctx: StepContext, t: TransferRow): Promise<void> {
  const { deps, steps } = ctx;
  const quarantine = join(dataLayout(deps.dataDir).quarantine, t.id);
  await moveTree(spoolDir(deps.dataDir, t.id), quarantine);
  steps.add('quarantined', { folder: quarantine });
  failpoint('quarantined');
  await writeReceipt({ dataDir: deps.dataDir, db: ctx.client, transfer: t }, t.receiptXml!);
  steps.add('receipt-written');
  await recordFinished(ctx.client, t.id, steps);
  if (t.status === 'resent') transfersTotal.inc({ outcome: 'resend', code: '' });
  else transfersTotal.inc({ outcome: 'rejected', code: t.errorCode ?? '' });
  ctx.log.debug('transfer finished');
}
