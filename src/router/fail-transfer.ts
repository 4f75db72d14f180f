import { join } from 'node:path';
import type { PoolClient } from '../db/pool.js';
import { log as rootLog } from '../log.js';
import { transfersTotal } from '../metrics/metrics.js';
import { transferFailedNotice, type FailedTransfer } from '../notices/event-notices.js';
import { buildReceipt } from '../triggers/build-xml.js';
import { failpoint } from './failpoint.js';
import { deliveryDir, withdrawUnannounced } from './place-delivery.js';
import { spoolDir } from './spool.js';
import { findTransfer } from './sql/find-transfer.js';
import { deliveriesOf } from './sql/pending-deliveries.js';
import { receiptOwedNoMore, recordFailed } from './sql/record-failed.js';
import type { RouterDeps } from './step-context.js';
import { isInFlight } from './transfer-states.js';
import { writeReceipt } from './write-receipt.js';

/**
 * Out of retries (SPEC §5 1901): withdraw data files placed but not announced, record `failed`, and
 * tell the sender with a DELIVERY_FAILED receipt. The spool keeps the file for `transfer retry`.
 * The failure and its notices (SPEC §12: the sender's vendor's admins, the operators) are one
 * transaction: both or neither, and a second failTransfer of the same failure records nothing.
 */
export async function failTransfer(deps: RouterDeps, client: PoolClient, transferId: string, cause: Error, attempts: number): Promise<void> {
  const t = await findTransfer(client, transferId);
  if (!t || t.finishedAt || !isInFlight(t.status)) return;
  const log = rootLog.child({ op: 'route', transferId, system: t.senderUsername });
  if (t.fileName) {
    const spoolFile = join(spoolDir(deps.dataDir, t.id), t.fileName);
    for (const d of await deliveriesOf(client, t.id)) {
      await withdrawUnannounced(spoolFile, deliveryDir(deps.dataDir, d.username, d.folder), t.fileName, t.id).catch(() => []);
    }
  }
  // The cause (an OS error, a recipient's folder) stays in the log: the receipt speaks the sender's language.
  const text = `Delivery failed after ${attempts} attempts: the file could not be placed with every recipient, so none has it. The operator can retry it with 'filudveksling transfer retry ${t.id}'`;
  const sendersFileId = t.sendersFileId ?? undefined;
  const receiptXml = buildReceipt({ transferId: t.id, sendersFileId, ok: false, code: 'DELIVERY_FAILED', text });
  if (!(await failedWithNotices(client, t, { transferId: t.id, text, receiptXml }))) return;
  failpoint('failure-committed');
  await writeFailureReceipt(deps, client, t, receiptXml);
  transfersTotal.inc({ outcome: 'failed', code: 'DELIVERY_FAILED' });
  log.error({ err: cause }, `transfer failed after ${attempts} attempts: ${cause.message}`);
}

async function failedWithNotices(client: PoolClient, t: FailedTransfer, failure: Parameters<typeof recordFailed>[1]): Promise<boolean> {
  await client.query('BEGIN');
  try {
    const recorded = await recordFailed(client, failure);
    if (recorded) await transferFailedNotice(client, t);
    failpoint('failure-noticed');
    await client.query('COMMIT');
    return recorded;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The failure's receipt into the sender's IN, then the debt cleared. Also how a failed transfer whose
 * node died before writing it gets it (routeTransfer, on resume or sweep): writing it twice is harmless.
 */
export async function writeFailureReceipt(deps: RouterDeps, client: PoolClient, t: FailedTransfer & Parameters<typeof writeReceipt>[0]['transfer'], receiptXml: string): Promise<void> {
  await writeReceipt({ dataDir: deps.dataDir, db: client, transfer: t }, receiptXml);
  await receiptOwedNoMore(client, t.id);
}
