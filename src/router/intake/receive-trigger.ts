import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PoolClient } from '../../db/pool.js';
import { log } from '../../log.js';
import { dataLayout, outDir } from '../../storage/homes.js';
import { moveInto } from '../../storage/move-into.js';
import { readAtMost } from '../../storage/read-at-most.js';
import type { SystemRow } from '../../systems/find-system.js';
import { MAX_TRIGGER_BYTES } from '../../triggers/namespaces.js';
import { parseTriggerOrError, salvageTriggerFields, TriggerError, type Trigger } from '../../triggers/parse-trigger.js';
import { failpoint } from '../failpoint.js';
import type { RoutingJob } from '../routing-queue.js';
import { insertReceivedFrom, transferIdByTriggerKey } from '../sql/insert-received.js';
import { transferStatus } from '../sql/find-transfer.js';
import type { TransferRow } from '../sql/transfer-row.js';
import type { TransferLock } from '../transfer-lock.js';
import { triggerKey } from './trigger-key.js';

/** What receiving a trigger learnt, so routing it next reads and parses nothing twice. */
export interface KnownTransfer {
  /** The row as inserted (it was made just now, under the job's lock). */
  transfer: TransferRow;
  sender: SystemRow;
  /** The trigger as parsed, or why it could not be. */
  trigger: Trigger | TriggerError;
}

/** The transfer a trigger job is about. */
export interface Received {
  transferId: string;
  known?: KnownTransfer;
}

/**
 * Step one of a transfer: a trigger file in a system's OUT becomes a `received` transfer (once, by
 * its trigger key). Returns the transfer id, or undefined when there is nothing to route (the file
 * is gone and no transfer was made of it, or it belongs to no registered system). A row made now
 * comes with the transfer's lock taken on `lock` in the same statement.
 */
export async function receiveTrigger(
  client: PoolClient,
  dataDir: string,
  job: Extract<RoutingJob, { kind: 'trigger' }>,
  lock: TransferLock,
): Promise<Received | undefined> {
  const path = join(outDir(dataDir, job.username), job.triggerName);
  let bytes: Buffer;
  let key = job.key;
  try {
    const st = await stat(path, { bigint: true });
    const now = triggerKey(job.username, job.triggerName, st);
    if (now !== job.key) {
      const earlier = await byKey(client, job.key);
      if (earlier) return earlier;
      // The file under this name changed after the job was queued and no transfer was made of it:
      // its times set right after the upload (rclone, WinSCP), or a newer upload replaced it. What
      // lies there now is the trigger, under the key it has now (any other job for it agrees).
      key = now;
    }
    bytes = await readAtMost(path, MAX_TRIGGER_BYTES + 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Taken already (by an earlier run of this job or another intake path), or deleted by its owner.
    return byKey(client, job.key);
  }
  const trigger = parseTriggerOrError(bytes);
  const fields: { fileName?: string; sendersFileId?: string; transactionId?: string } =
    trigger instanceof TriggerError ? salvageTriggerFields(bytes) : { fileName: trigger.fileName, sendersFileId: trigger.sendersFileId, transactionId: trigger.routing.transactionId };
  const received = {
    triggerKey: key,
    triggerName: job.triggerName,
    // PostgreSQL text cannot hold NUL; the exact bytes stay in the spool/quarantine copy.
    triggerXml: bytes.toString('utf8').replace(/\0/g, '\uFFFD'),
    fileName: fields.fileName?.slice(0, 1000),
    sendersFileId: fields.sendersFileId?.slice(0, 255),
    transactionId: fields.transactionId?.slice(0, 100),
    closedAt: new Date(job.closedAt),
  };
  // The sender is looked up in the statement that records the trigger (one round trip).
  const made = await insertReceivedFrom(client, job.username, received);
  if (!made) {
    if (!orphansWarned.has(key)) {
      orphansWarned.add(key);
      log.warn({ op: 'route', system: job.username, trigger: job.triggerName }, 'a trigger lies in the OUT of a user name no system has; leaving it there');
    }
    return undefined;
  }
  const { id, created, receivedAt, locked, sender } = made;
  let known: KnownTransfer | undefined;
  if (created && locked) {
    // Made just now, under our lock: the row is exactly what was inserted, no need to read it back.
    lock.takenWithRow(id);
    const transfer: TransferRow = {
      id,
      senderSystemId: sender.id,
      senderUsername: sender.username,
      triggerName: received.triggerName,
      triggerKey: received.triggerKey,
      fileName: received.fileName ?? null,
      sendersFileId: received.sendersFileId ?? null,
      sizeBytes: null,
      sha256: null,
      infrefId: null,
      authorityId: null,
      status: 'received',
      errorCode: null,
      errorText: null,
      triggerXml: received.triggerXml,
      receiptXml: null,
      resendOf: null,
      receivedAt: receivedAt!,
      triggerClosedAt: received.closedAt,
      decidedAt: null,
      finishedAt: null,
      retries: 0,
      failureReceiptOwed: false,
    };
    known = { transfer, sender, trigger };
  }
  if (created) {
    log.info({ op: 'route', transferId: id, system: job.username, trigger: job.triggerName }, 'trigger received');
    failpoint('received');
  } else {
    // This very file (same key) already made a transfer that has taken its trigger: what lies in OUT
    // is a second name for it (given back while two transfers raced for one trigger name). Kept aside.
    const status = await transferStatus(client, id);
    if (status !== undefined && status !== 'received') {
      await moveInto(path, join(dataLayout(dataDir).quarantine, id), `${job.triggerName}.again`);
    }
  }
  return { transferId: id, known };
}

async function byKey(client: PoolClient, key: string): Promise<Received | undefined> {
  const id = await transferIdByTriggerKey(client, key);
  return id === undefined ? undefined : { transferId: id };
}

/** Triggers in homes no system owns, warned about once each (the OUT rescan finds them every few seconds). */
const orphansWarned = new Set<string>();
