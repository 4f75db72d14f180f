import { link, mkdir, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PoolClient, Queryable } from '../db/pool.js';
import { log as rootLog, type Logger } from '../log.js';
import { routingLatency, transfersTotal } from '../metrics/metrics.js';
import { sha256File } from '../storage/hash-file.js';
import { dataLayout, outDir } from '../storage/homes.js';
import { exists, moveInto } from '../storage/move-into.js';
import { findSystemByUsername, type SystemRow } from '../systems/find-system.js';
import { buildFileMetadata, buildLegacyMetadata, buildReceipt } from '../triggers/build-xml.js';
import { ERROR_CODES } from '../triggers/error-codes.js';
import { MAX_TRIGGER_BYTES } from '../triggers/namespaces.js';
import { parseTrigger, salvageTriggerFields, TriggerError, type Trigger } from '../triggers/parse-trigger.js';
import { uploadInProgress } from '../sftp/upload-events.js';
import { decideTransfer } from './decide-transfer.js';
import { failpoint } from './failpoint.js';
import { deliveryDir, placeDeliveryFile, placeDeliveryMetadata, withdrawUnannounced } from './place-delivery.js';
import { readAtMost } from './receive-trigger.js';
import { RouteLater, RoutingError } from './routing-error.js';
import { findResendOriginal } from './sql/find-resend-original.js';
import { findTransfer } from './sql/find-transfer.js';
import { deliveriesOf, type DeliveryRow } from './sql/pending-deliveries.js';
import { recordDecision } from './sql/record-decision.js';
import { markDelivering, recordDelivered } from './sql/record-delivered.js';
import { recordFailed } from './sql/record-failed.js';
import { finishedDeliveredAmong, recordFinished } from './sql/record-finished.js';
import { recordRejection } from './sql/record-rejection.js';
import type { TransferRow } from './sql/transfer-row.js';
import { StepLog } from './sql/transfer-steps.js';
import type { UploadHashCache } from './upload-hash-cache.js';
import { triggerKey } from './trigger-key.js';
import { prepareReceipt, writeReceipt } from './write-receipt.js';
import type { PreparedReplacement } from '../storage/place-atomically.js';

export interface RouterDeps {
  dataDir: string;
  env: 'test' | 'production';
  hashes: UploadHashCache;
}

/**
 * Drives one transfer from whatever state the database says it is in to the end of its journey:
 *
 *   received ──decide──▶ validated ──place──▶ delivering ──▶ delivered ──receipt, clear spool──▶ finished
 *       └──────────────▶ rejected | resent ──quarantine, receipt──▶ finished
 *
 * (A job that decides goes on to place at once, so `validated` and `delivering` are recorded in one
 * statement; `validated` alone is only met in rows from before that rule.)
 *
 * Every step is idempotent and recorded before the next one starts, so a job run again (after a
 * crash, on another node) takes up where the last one stopped and does nothing twice. The caller
 * holds the transfer's lock.
 */
export async function routeTransfer(deps: RouterDeps, client: PoolClient, transferId: string, memo: JobMemo = {}): Promise<void> {
  const t = memo.transfer?.id === transferId ? memo.transfer : await findTransfer(client, transferId);
  if (!t) throw new Error(`Transfer ${transferId} is not in the database`);
  if (t.finishedAt || t.status === 'failed' || t.status === 'expired') return;
  const log = rootLog.child({ op: 'route', transferId, system: t.senderUsername });
  const steps = new StepLog();
  switch (t.status) {
    case 'received': {
      const next = await decideStep(deps, client, t, steps, log, memo);
      if (next.status === 'validated') await deliverStep(deps, client, next.transfer, steps, log, memo, next.trigger, next.deliveries);
      else await finishRejected(deps, client, next.transfer, steps, log);
      return;
    }
    case 'validated':
    case 'delivering':
      await deliverStep(deps, client, t, steps, log, memo);
      return;
    case 'delivered':
      // Finished in the same statement that delivered it; only rows from before that rule get here.
      await rm(spoolDir(deps, t.id), { recursive: true, force: true });
      await recordFinished(client, t.id, steps);
      return;
    case 'rejected':
    case 'resent':
      await finishRejected(deps, client, t, steps, log);
      return;
  }
}

/** What the job already knows when it starts on a trigger (so nothing is looked up or parsed twice). */
export interface JobMemo {
  sender?: SystemRow;
  trigger?: Trigger | TriggerError;
  /** The row receiveTrigger just made (as inserted), when it took the transfer's lock in the same statement. */
  transfer?: TransferRow;
  /** The job's connection already holds the transfer's lock (taken as the row was made). */
  locked?: boolean;
  /** The lock was let go in the statement that recorded the delivery (the caller need not unlock). */
  unlocked?: boolean;
}

type Decided =
  | { status: 'validated'; transfer: TransferRow; trigger: Trigger; deliveries: DeliveryRow[] }
  | { status: 'rejected' | 'resent'; transfer: TransferRow };

function spoolDir(deps: RouterDeps, id: string): string {
  return join(dataLayout(deps.dataDir).spool, id);
}

async function senderOf(client: PoolClient, t: TransferRow, memo: JobMemo): Promise<SystemRow> {
  if (memo.sender?.id === t.senderSystemId) return memo.sender;
  const s = await findSystemByUsername(client, t.senderUsername);
  if (!s) throw new Error(`The sender of transfer ${t.id} (${t.senderUsername}) is gone from the database`);
  return s;
}

/** The trigger's bytes: the spool copy, else (never taken: the owner deleted it first) the stored text. */
async function triggerBytes(deps: RouterDeps, t: TransferRow): Promise<Buffer> {
  const path = join(spoolDir(deps, t.id), t.triggerName);
  try {
    return await readAtMost(path, MAX_TRIGGER_BYTES + 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return Buffer.from(t.triggerXml ?? '', 'utf8');
  }
}

function parseOrError(bytes: Buffer): Trigger | TriggerError {
  try {
    return parseTrigger(bytes);
  } catch (err) {
    if (err instanceof TriggerError) return err;
    throw err;
  }
}

/** Danish calendar day (SPEC §4: the default route selection date). */
export function danishToday(now = new Date()): string {
  return DANISH_DAY.format(now);
}
// sv-SE writes dates as YYYY-MM-DD. Made once: building a formatter costs more than using it.
const DANISH_DAY = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' });

/** received → validated | rejected | resent. */
async function decideStep(deps: RouterDeps, client: PoolClient, t: TransferRow, steps: StepLog, log: Logger, memo: JobMemo): Promise<Decided> {
  const sender = await senderOf(client, t, memo);
  const spool = spoolDir(deps, t.id);
  const out = outDir(deps.dataDir, sender.username);

  // Out of the sender's reach first: the trigger, then (once we know its name) the data file.
  const took = await moveInto(join(out, t.triggerName), spool, t.triggerName);
  if (took === 'missing') await writeFile(join(spool, t.triggerName), t.triggerXml ?? '');
  if (took === 'moved') {
    await giveBackNewerTrigger(t, sender, out, spool, log);
    steps.add('trigger-taken');
    failpoint('trigger-taken');
  }
  const parsed = took === 'moved' && memo.trigger ? memo.trigger : parseOrError(await triggerBytes(deps, t));
  const fields = parsed instanceof TriggerError ? salvageTriggerFields(await triggerBytes(deps, t)) : parsed;

  // SPEC §5: a resend is answered with the first receipt, before any other check.
  if (fields.sendersFileId !== undefined && fields.sender === sender.username) {
    const original = await findResendOriginal(client, { transferId: t.id, senderSystemId: sender.id, sendersFileId: fields.sendersFileId });
    if (original && original.status !== 'delivered') {
      throw new RouteLater(`an earlier trigger with SendersFileId '${fields.sendersFileId}' (transfer ${original.id}) is still being routed`, 1000);
    }
    if (original) {
      if (fields.fileName && isPlainName(fields.fileName) && fields.fileName !== t.triggerName) {
        await moveInto(join(out, fields.fileName), spool, fields.fileName, { dirReady: true });
      }
      await recordRejection(
        client,
        { transferId: t.id, status: 'resent', text: `Resend of transfer ${original.id} (same Sender and SendersFileId); answered with its receipt`, receiptXml: original.receiptXml!, resendOf: original.id },
        steps,
      );
      log.info({ resendOf: original.id }, 'resend: answering with the original receipt');
      return { status: 'resent', transfer: { ...t, status: 'resent', receiptXml: original.receiptXml, resendOf: original.id } };
    }
  }

  // The data file: by the trigger's FileName, or for a trigger that does not parse, by whatever
  // FileName could be read from it (so a rejected transfer's file goes to quarantine with it).
  let file: { size: number; sha256: () => Promise<string> } | undefined;
  const fileName = fields.fileName;
  if (fileName !== undefined && isPlainName(fileName) && fileName !== t.triggerName) {
    const original = join(out, fileName);
    const took = await moveInto(original, spool, fileName, { dirReady: true }); // the trigger's move made the spool folder
    if (took === 'missing' && !(parsed instanceof TriggerError) && (await uploadInProgress(out, fileName))) {
      // Look again soon for a small file, less often the longer the upload has been running.
      const waited = Date.now() - t.receivedAt.getTime();
      throw new RouteLater(`the data file '${fileName}' is still being uploaded`, Math.min(5000, Math.max(100, Math.floor(waited / 10))));
    }
    if (took !== 'missing') {
      if (took === 'moved') {
        steps.add('file-taken', { name: fileName });
        failpoint('file-taken');
      }
      const inSpool = join(spool, fileName);
      const st = await stat(inSpool);
      let hash: Promise<string> | undefined;
      file = {
        size: st.size,
        sha256: () =>
          (hash ??= (async () => {
            const known = await deps.hashes.take(original, inSpool);
            const sha = known ?? (await sha256File(inSpool));
            steps.add('hashed', { sha256: sha, reusedUploadHash: known !== undefined });
            return sha;
          })()),
      };
    }
  }

  try {
    const d = await decideTransfer(client, { sender, trigger: parsed, file, env: deps.env, today: danishToday() });
    const folderOf = (r: SystemRow) => (r.inboxLayout === 'flat' ? null : d.authority.folder);
    await recordDecision(
      client,
      {
        transferId: t.id,
        fileName: d.trigger.fileName,
        sizeBytes: d.trigger.sizeInBytes,
        sha256: d.sha256,
        infrefId: d.infref.id,
        authorityId: d.authority.id,
        recipients: d.recipients.map((r) => ({ systemId: r.id, username: r.username, folder: folderOf(r) })),
      },
      steps,
    );
    log.info({ recipients: d.recipients.map((r) => r.username) }, 'transfer validated');
    failpoint('validated');
    return {
      status: 'validated',
      transfer: { ...t, status: 'delivering', fileName: d.trigger.fileName, sizeBytes: d.trigger.sizeInBytes, sha256: d.sha256 },
      trigger: d.trigger,
      deliveries: d.recipients.map((r) => ({
        recipientSystemId: r.id,
        username: r.username,
        uuid: r.uuid,
        inboxLayout: r.inboxLayout,
        metadataFormat: r.metadataFormat,
        folder: folderOf(r),
        status: 'pending',
        deliveredName: null,
      })),
    };
  } catch (err) {
    if (!(err instanceof RoutingError)) throw err;
    const receiptXml = buildReceipt({ transferId: t.id, sendersFileId: fields.sendersFileId, ok: false, code: err.code, text: err.message });
    await recordRejection(
      client,
      { transferId: t.id, status: 'rejected', code: err.code, text: err.message, receiptXml, fileName: fields.fileName, sizeBytes: file?.size },
      steps,
    );
    log.warn({ code: err.code, errorNumber: ERROR_CODES[err.code].number }, `transfer rejected: ${err.message}`);
    failpoint('rejected');
    return { status: 'rejected', transfer: { ...t, status: 'rejected', receiptXml, errorCode: err.code, errorText: err.message } };
  }
}

/**
 * The trigger file moved into the spool must be the one this transfer was made of. If the sender
 * replaced it under the same name in the meantime, the newer file goes back to OUT (it is its own
 * transfer, picked up by the next scan) and this transfer keeps the bytes it recorded.
 */
async function giveBackNewerTrigger(t: TransferRow, sender: SystemRow, out: string, spool: string, log: Logger): Promise<void> {
  if (!t.triggerKey) return;
  const inSpool = join(spool, t.triggerName);
  if (triggerKey(sender.username, t.triggerName, await stat(inSpool, { bigint: true })) === t.triggerKey) return;
  try {
    await link(inSpool, join(out, t.triggerName));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Replaced yet again: the newest is in OUT; this middle one the sender overwrote itself.
    log.warn({ trigger: t.triggerName }, 'the trigger was replaced twice while being taken; the newest one stays in OUT');
  }
  await unlink(inSpool); // the newer bytes live on under OUT; ours come from the record
  await writeFile(inSpool, t.triggerXml ?? '');
  log.info({ trigger: t.triggerName }, 'the sender replaced the trigger while it was being taken; the newer one went back to OUT');
}

function isPlainName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/**
 * validated | delivering → delivered: every data file placed, then every metadata file, then the
 * receipt, then one statement records it all; the spool copy goes last (the recipients hold links).
 */
async function deliverStep(
  deps: RouterDeps,
  client: PoolClient,
  t: TransferRow,
  steps: StepLog,
  log: Logger,
  memo: JobMemo,
  known?: Trigger,
  knownDeliveries?: DeliveryRow[],
): Promise<void> {
  const delivering = t.status === 'validated' ? markDelivering(client, t.id) : Promise.resolve();
  let trigger = known;
  if (!trigger) {
    const parsed = parseOrError(await triggerBytes(deps, t));
    if (parsed instanceof TriggerError) throw new Error(`Transfer ${t.id} was validated but its trigger no longer parses: ${parsed.message}`);
    trigger = parsed;
  }
  const spoolFile = join(spoolDir(deps, t.id), t.fileName!);
  // The receipt is the same bytes however often it is written, so it goes before the record. Its
  // write and fsync run beside the placing; it appears under its name only after the last metadata.
  const receiptXml = buildReceipt({ transferId: t.id, sendersFileId: trigger.sendersFileId, ok: true });
  const receipt = prepareReceipt(deps.dataDir, t.senderUsername, t.triggerName, receiptXml);
  receipt.catch(() => undefined); // awaited below; a failure of the placing must not leave it unhandled
  try {
    await placeAndAnnounce(deps, client, t, steps, trigger, spoolFile, delivering, knownDeliveries, receipt, receiptXml, log, memo);
  } catch (err) {
    await delivering.catch(() => undefined);
    await receipt.then((r) => r.discard()).catch(() => undefined);
    throw err;
  }
  // A node that dies here leaves the spool folder; the next start clears it (clearFinishedSpool).
  await clearSpool(spoolDir(deps, t.id), [t.triggerName, t.fileName!]);
}

/** Removes a delivered transfer's spool folder: its two known files, then the folder (else all of it). */
async function clearSpool(dir: string, names: string[]): Promise<void> {
  try {
    await Promise.all(names.map((n) => unlink(join(dir, n))));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true }); // something else in it, or gone already
  }
}

async function placeAndAnnounce(
  deps: RouterDeps,
  client: PoolClient,
  t: TransferRow,
  steps: StepLog,
  trigger: Trigger,
  spoolFile: string,
  delivering: Promise<void>,
  knownDeliveries: DeliveryRow[] | undefined,
  receipt: Promise<PreparedReplacement>,
  receiptXml: string,
  log: Logger,
  memo: JobMemo,
): Promise<void> {
  const deliveries = knownDeliveries ?? (await deliveriesOf(client, t.id));

  // Phase one: the data files. A recipient's client waits for the .metadata, so until phase two a
  // placed file is not yet announced, and a transfer that cannot reach everyone can be withdrawn.
  const placed = await Promise.all(
    deliveries.map(async (d) => {
      const dir = deliveryDir(deps.dataDir, d.username, d.folder);
      const name = await placeDeliveryFile(spoolFile, dir, t.fileName!, t.id, t.sha256!);
      steps.add(`placed:${d.username}`, { name: d.folder === null ? name : `${d.folder}/${name}` });
      failpoint('data-placed');
      return { d, dir, name, placedAt: new Date() };
    }),
  );
  await delivering;
  // Phase two: the metadata, which announces each file.
  const done = await Promise.all(
    placed.map(async ({ d, dir, name, placedAt }) => {
      const input = { transferId: t.id, trigger: trigger!, deliveredFileName: name, recipientUsername: d.username, recipientItSystem: d.uuid, sha256: t.sha256! };
      await placeDeliveryMetadata(dir, name, d.metadataFormat === 'legacy' ? buildLegacyMetadata(input) : buildFileMetadata(input));
      steps.add(`metadata:${d.username}`);
      failpoint('metadata-written');
      return { recipientSystemId: d.recipientSystemId, name, placedAt, metadataAt: new Date() };
    }),
  );
  if (t.triggerClosedAt) routingLatency.observe(Math.max(0, Date.now() - t.triggerClosedAt.getTime()) / 1000);
  await (await receipt).commit();
  steps.add('receipt-written');
  failpoint('receipt-written');
  steps.add('finished');
  await recordDelivered(client, { transferId: t.id, receiptXml, placed: done, unlock: true }, steps);
  memo.unlocked = true;
  transfersTotal.inc({ outcome: 'delivered', code: '' });
  log.info({ recipients: done.map((p) => p.name) }, 'transfer delivered');
  failpoint('delivered');
}

/** Spool folders of transfers already finished (a node died between recording and clearing). */
export async function clearFinishedSpool(deps: RouterDeps, client: Queryable): Promise<number> {
  const spool = dataLayout(deps.dataDir).spool;
  const names = await readdir(spool).catch(() => [] as string[]);
  let cleared = 0;
  for (let i = 0; i < names.length; i += 1000) {
    for (const id of await finishedDeliveredAmong(client, names.slice(i, i + 1000))) {
      await rm(join(spool, id), { recursive: true, force: true });
      cleared++;
    }
  }
  return cleared;
}

/** rejected | resent → finished: data file and trigger into quarantine/<id>/, then the receipt. */
async function finishRejected(deps: RouterDeps, client: PoolClient, t: TransferRow, steps: StepLog, log: Logger): Promise<void> {
  const quarantine = join(dataLayout(deps.dataDir).quarantine, t.id);
  await moveTree(spoolDir(deps, t.id), quarantine);
  steps.add('quarantined', { folder: quarantine });
  failpoint('quarantined');
  await writeReceipt(deps.dataDir, t.senderUsername, t.triggerName, t.receiptXml!);
  steps.add('receipt-written');
  await recordFinished(client, t.id, steps);
  if (t.status === 'resent') transfersTotal.inc({ outcome: 'resend', code: '' });
  else transfersTotal.inc({ outcome: 'rejected', code: t.errorCode ?? '' });
  log.debug('transfer finished');
}

/** Renames a folder into place; if part of it was moved before (a re-run), moves what is left. */
async function moveTree(from: string, to: string): Promise<void> {
  if (!(await exists(from))) return;
  await mkdir(join(to, '..'), { recursive: true });
  try {
    await rename(from, to);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
  for (const name of await readdir(from)) await moveInto(join(from, name), to, name);
  await rm(from, { recursive: true, force: true });
}

/**
 * Out of retries (SPEC §5 1901): withdraw data files placed but not announced, record `failed`, and
 * tell the sender with a DELIVERY_FAILED receipt. The spool keeps the file for `transfer retry`.
 */
export async function failTransfer(deps: RouterDeps, client: PoolClient, transferId: string, cause: Error, attempts: number): Promise<void> {
  const t = await findTransfer(client, transferId);
  if (!t || t.finishedAt || !['received', 'validated', 'delivering'].includes(t.status)) return;
  const log = rootLog.child({ op: 'route', transferId, system: t.senderUsername });
  if (t.fileName) {
    const spoolFile = join(spoolDir(deps, t.id), t.fileName);
    for (const d of await deliveriesOf(client, t.id)) {
      await withdrawUnannounced(spoolFile, deliveryDir(deps.dataDir, d.username, d.folder), t.fileName, t.id).catch(() => []);
    }
  }
  const text = `Delivery failed after ${attempts} attempts: ${cause.message}. The operator can retry it with 'filudveksling transfer retry ${t.id}'`;
  const sendersFileId = t.sendersFileId ?? undefined;
  const receiptXml = buildReceipt({ transferId: t.id, sendersFileId, ok: false, code: 'DELIVERY_FAILED', text });
  if (!(await recordFailed(client, { transferId: t.id, text, receiptXml }))) return;
  await writeReceipt(deps.dataDir, t.senderUsername, t.triggerName, receiptXml);
  transfersTotal.inc({ outcome: 'failed', code: 'DELIVERY_FAILED' });
  log.error({ err: cause }, `transfer failed: ${text}`);
}
