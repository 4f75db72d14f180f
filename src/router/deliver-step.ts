import { dirname, join } from 'node:path';
import { routingLatency, transfersTotal } from '../metrics/metrics.js';
import { syncDir } from '../storage/homes.js';
import { buildFileMetadata, buildLegacyMetadata, buildReceipt } from '../triggers/build-xml.js';
import { parseTriggerOrError, TriggerError, type Trigger } from '../triggers/parse-trigger.js';
import { failpoint } from './failpoint.js';
import { deliveryDir, placeDeliveryFile, placeDeliveryMetadata } from './place-delivery.js';
import { clearSpool, spoolDir, triggerBytes } from './spool.js';
import { deliveriesOf, type DeliveryRow } from './sql/pending-deliveries.js';
import { markDelivering, recordDelivered } from './sql/record-delivered.js';
import type { TransferRow } from './sql/transfer-row.js';
import type { StepContext } from './step-context.js';
import { prepareReceipt, type PreparedReceipt } from './write-receipt.js';

/**
 * validated | delivering → delivered: every data file placed, then every metadata file, then the
 * receipt, then one statement records it all; the spool copy goes last (the recipients hold links).
 * `decided` is what the job's decision just found (else it is read back: a resumed or retried job).
 */
export async function deliverStep(ctx: StepContext, t: TransferRow, decided?: { trigger: Trigger; deliveries: DeliveryRow[] }): Promise<void> {
  const { deps, client } = ctx;
  // A retried transfer comes back as `validated`; the job that decided recorded `delivering` already.
  const delivering = t.status === 'validated' ? markDelivering(client, t.id) : Promise.resolve();
  let trigger = decided?.trigger;
  if (!trigger) {
    const parsed = parseTriggerOrError(await triggerBytes(deps.dataDir, t));
    if (parsed instanceof TriggerError) throw new Error(`Transfer ${t.id} was validated but its trigger no longer parses: ${parsed.message}`);
    trigger = parsed;
  }
  // The receipt is the same bytes however often it is written, so it goes before the record. Its
  // write and fsync run beside the placing; it appears under its name only after the last metadata.
  const receiptXml = buildReceipt({ transferId: t.id, sendersFileId: trigger.sendersFileId, ok: true });
  const receipt = prepareReceipt({ dataDir: deps.dataDir, db: client, transfer: t }, receiptXml);
  receipt.catch(() => undefined); // awaited below; a failure of the placing must not leave it unhandled
  try {
    await placeAndAnnounce(ctx, {
      transfer: t,
      trigger,
      spoolFile: join(spoolDir(deps.dataDir, t.id), t.fileName!),
      deliveries: decided?.deliveries ?? (await deliveriesOf(client, t.id)),
      delivering,
      receipt: { prepared: receipt, xml: receiptXml },
    });
  } catch (err) {
    await delivering.catch(() => undefined);
    await receipt.then((r) => r.discard()).catch(() => undefined);
    throw err;
  }
  // A node that dies here leaves the spool folder; the next start clears it (clearFinishedSpool).
  await clearSpool(spoolDir(deps.dataDir, t.id), [t.triggerName, t.fileName!]);
}

/** One transfer's placing: what is placed, for whom, and what announces it. */
interface Placement {
  transfer: TransferRow;
  trigger: Trigger;
  /** The data file in the spool, the source of every recipient's link. */
  spoolFile: string;
  deliveries: DeliveryRow[];
  /** `validated` → `delivering` being recorded meanwhile (already so for a job that just decided). */
  delivering: Promise<void>;
  /** The sender's SUCCESS receipt, written and fsynced beside the placing, renamed in at the end. */
  receipt: { prepared: Promise<PreparedReceipt>; xml: string };
}

async function placeAndAnnounce(ctx: StepContext, p: Placement): Promise<void> {
  const { steps } = ctx;
  const t = p.transfer;
  // Phase one: the data files. A recipient's client waits for the .metadata, so until phase two a
  // placed file is not yet announced, and a transfer that cannot reach everyone can be withdrawn.
  const placed = await Promise.all(
    p.deliveries.map(async (d) => {
      const dir = deliveryDir(ctx.deps.dataDir, d.username, d.folder);
      const name = await placeDeliveryFile(p.spoolFile, dir, t.fileName!, t.id, t.sha256!);
      steps.add(`placed:${d.username}`, { name: d.folder === null ? name : `${d.folder}/${name}` });
      failpoint('data-placed');
      return { d, dir, name, placedAt: new Date() };
    }),
  );
  await p.delivering;
  // Phase two: the metadata, which announces each file.
  const done = await Promise.all(
    placed.map(async ({ d, dir, name, placedAt }) => {
      const input = { transferId: t.id, trigger: p.trigger, deliveredFileName: name, recipientUsername: d.username, recipientItSystem: d.uuid, sha256: t.sha256! };
      await placeDeliveryMetadata(dir, name, d.metadataFormat === 'legacy' ? buildLegacyMetadata(input) : buildFileMetadata(input));
      steps.add(`metadata:${d.username}`);
      failpoint('metadata-written');
      return { recipientSystemId: d.recipientSystemId, name, placedAt, metadataAt: new Date() };
    }),
  );
  if (t.triggerClosedAt) routingLatency.observe(Math.max(0, Date.now() - t.triggerClosedAt.getTime()) / 1000);
  // The new names in each inbox (links and metadata) are made durable before the record says
  // `delivered`: after a power cut the record never claims a file the folder lost.
  await Promise.all([...new Set(placed.map((x) => x.dir))].map(syncDir));
  const receiptPath = await (await p.receipt.prepared).commit();
  await syncDir(dirname(receiptPath));
  steps.add('receipt-written');
  failpoint('receipt-written');
  steps.add('finished');
  await recordDelivered(ctx.client, { transferId: t.id, receiptXml: p.receipt.xml, placed: done, unlock: true }, steps);
  ctx.lock.releasedWithRecord();
  transfersTotal.inc({ outcome: 'delivered', code: '' });
  ctx.log.info({ recipients: done.map((r) => r.name) }, 'transfer delivered');
  failpoint('delivered');
}
