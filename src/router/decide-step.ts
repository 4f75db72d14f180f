import { danishDay } from '../agreements/danish-day.js';
import type { SystemRow } from '../systems/find-system.js';
import { buildReceipt } from '../triggers/build-xml.js';
import { ERROR_CODES } from '../triggers/error-codes.js';
import { parseTriggerOrError, salvageTriggerFields, TriggerError, type Trigger } from '../triggers/parse-trigger.js';
import { decideTransfer, decisionQuestion } from './decide-transfer.js';
import { failpoint } from './failpoint.js';
import { RouteLater, RoutingError } from './routing-error.js';
import { triggerBytes } from './spool.js';
import { lookUpDecision } from './sql/decision-lookups.js';
import type { DeliveryRow } from './sql/pending-deliveries.js';
import { recordDecision } from './sql/record-decision.js';
import { recordRejection } from './sql/record-rejection.js';
import type { TransferRow } from './sql/transfer-row.js';
import type { StepContext } from './step-context.js';
import { takeDataFile, takeResentFile, takeTrigger } from './take-into-spool.js';

/** How a `received` transfer was decided: to be delivered (to these recipients), or answered at once. */
export type Decided =
  | { status: 'validated'; transfer: TransferRow; trigger: Trigger; deliveries: DeliveryRow[] }
  | { status: 'rejected' | 'resent'; transfer: TransferRow };

/**
 * received → validated (recorded as delivering) | rejected | resent: takes the trigger and data file
 * into the spool, answers a resend with the first receipt, else runs SPEC §5's checks
 * (decideTransfer) and records the outcome. `parsed` is the trigger as the job already read it.
 */
export async function decideStep(ctx: StepContext, t: TransferRow, sender: SystemRow, parsed?: Trigger | TriggerError): Promise<Decided> {
  const { client, steps, log } = ctx;
  const moved = await takeTrigger(ctx, t, sender);
  const trigger = moved && parsed ? parsed : parseTriggerOrError(await triggerBytes(ctx.deps.dataDir, t));
  const fields = trigger instanceof TriggerError ? salvageTriggerFields(await triggerBytes(ctx.deps.dataDir, t)) : trigger;

  // Everything the decision reads from the database, in one round trip (the resend's original too).
  const today = danishDay();
  const resends = fields.sendersFileId !== undefined && fields.sender === sender.username;
  const found = await lookUpDecision(client, decisionQuestion({ transferId: t.id, sender, trigger, sendersFileId: resends ? fields.sendersFileId : undefined, env: ctx.deps.env, today }));

  // SPEC §5: a resend is answered with the first receipt, before any other check.
  if (resends) {
    const original = found.resendOriginal;
    if (original && original.status !== 'delivered') {
      throw new RouteLater(`an earlier trigger with SendersFileId '${fields.sendersFileId}' (transfer ${original.id}) is still being routed`, 1000);
    }
    if (original) {
      await takeResentFile(ctx, t, sender, fields.fileName);
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
  const file = await takeDataFile(ctx, t, sender, fields.fileName, !(trigger instanceof TriggerError));
  try {
    const d = await decideTransfer({ sender, transferId: t.id, triggerName: t.triggerName, trigger, file, env: ctx.deps.env, today, found });
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
