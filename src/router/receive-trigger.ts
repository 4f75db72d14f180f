import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PoolClient } from '../db/pool.js';
import { log } from '../log.js';
import { dataLayout, outDir } from '../storage/homes.js';
import { moveInto } from '../storage/move-into.js';
import { findSystemByUsername } from '../systems/find-system.js';
import { MAX_TRIGGER_BYTES } from '../triggers/namespaces.js';
import { parseTrigger, salvageTriggerFields, TriggerError } from '../triggers/parse-trigger.js';
import { failpoint } from './failpoint.js';
import type { JobMemo } from './route-transfer.js';
import type { RoutingJob } from './routing-queue.js';
import { insertReceived, transferIdByTriggerKey } from './sql/insert-received.js';
import { triggerKey } from './trigger-key.js';

/**
 * Step one of a transfer: a trigger file in a system's OUT becomes a `received` transfer (once, by
 * its trigger key). Returns the transfer id, or undefined when there is nothing to route (the file
 * is gone and no transfer was made of it, or it belongs to no registered system).
 */
export async function receiveTrigger(
  client: PoolClient,
  dataDir: string,
  job: Extract<RoutingJob, { kind: 'trigger' }>,
  memo: JobMemo = {},
): Promise<string | undefined> {
  const path = join(outDir(dataDir, job.username), job.triggerName);
  let bytes: Buffer;
  try {
    const st = await stat(path, { bigint: true });
    if (triggerKey(job.username, job.triggerName, st) !== job.key) return transferIdByTriggerKey(client, job.key);
    bytes = await readAtMost(path, MAX_TRIGGER_BYTES + 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Taken already (by an earlier run of this job or another intake path), or deleted by its owner.
    return transferIdByTriggerKey(client, job.key);
  }
  const sender = await findSystemByUsername(client, job.username);
  if (!sender) {
    if (!orphansWarned.has(job.key)) {
      orphansWarned.add(job.key);
      log.warn({ op: 'route', system: job.username, trigger: job.triggerName }, 'a trigger lies in the OUT of a user name no system has; leaving it there');
    }
    return undefined;
  }
  memo.sender = sender;
  let fields: { fileName?: string; sendersFileId?: string; transactionId?: string };
  try {
    const t = parseTrigger(bytes);
    memo.trigger = t;
    fields = { fileName: t.fileName, sendersFileId: t.sendersFileId, transactionId: t.routing.transactionId };
  } catch (err) {
    if (!(err instanceof TriggerError)) throw err;
    memo.trigger = err;
    fields = salvageTriggerFields(bytes);
  }
  const received = {
    senderSystemId: sender.id,
    triggerKey: job.key,
    triggerName: job.triggerName,
    // PostgreSQL text cannot hold NUL; the exact bytes stay in the spool/quarantine copy.
    triggerXml: bytes.toString('utf8').replace(/\0/g, '\uFFFD'),
    fileName: fields.fileName?.slice(0, 1000),
    sendersFileId: fields.sendersFileId?.slice(0, 255),
    transactionId: fields.transactionId?.slice(0, 100),
    closedAt: new Date(job.closedAt),
  };
  const { id, created, receivedAt, locked } = await insertReceived(client, received);
  if (created && locked) {
    // Made just now, under our lock: the row is exactly what was inserted, no need to read it back.
    memo.locked = true;
    memo.transfer = {
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
    };
  }
  if (created) {
    log.info({ op: 'route', transferId: id, system: job.username, trigger: job.triggerName }, 'trigger received');
    failpoint('received');
  } else {
    // This very file (same key) already made a transfer that has taken its trigger: what lies in OUT
    // is a second name for it (given back while two transfers raced for one trigger name). Kept aside.
    const { rows } = await client.query<{ status: string }>('SELECT status FROM transfers WHERE id = $1', [id]);
    if (rows[0] && rows[0].status !== 'received') {
      await moveInto(path, join(dataLayout(dataDir).quarantine, id), `${job.triggerName}.again`);
    }
  }
  return id;
}

/** Triggers in homes no system owns, warned about once each (the OUT rescan finds them every few seconds). */
const orphansWarned = new Set<string>();

/** The first `max` bytes of a file (a trigger over 64 KiB is refused without reading it all). */
export async function readAtMost(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    let got = 0;
    while (got < max) {
      const { bytesRead } = await fh.read(buf, got, max - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
