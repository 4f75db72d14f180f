import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../db/pool.js';
import { log } from '../log.js';
import { DIR_MODE, inDir, RECEIPT_SUFFIX, TRIGGER_SUFFIX } from '../storage/homes.js';
import { prepareReplacement } from '../storage/place-atomically.js';
import { readAtMost } from '../storage/read-at-most.js';
import { isPlatformReceipt } from './sql/platform-receipt.js';
import type { TransferRow } from './sql/transfer-row.js';

/** The most a name may be in bytes (the file systems we run on). */
const MAX_NAME_BYTES = 255;

/** SPEC §7: the receipt is named after the trigger without `.trigger`. */
export function receiptNameFits(triggerName: string): boolean {
  return Buffer.byteLength(plainReceiptName(triggerName), 'utf8') <= MAX_NAME_BYTES;
}

/**
 * The receipt's name: SPEC §7's `<trigger name without .trigger>.sftpreceipt`, or when that cannot be
 * (over 255 bytes; a file not the platform's holds the name) `<stem>.<FileTransferUUID>.sftpreceipt`,
 * the stem shortened to fit.
 */
export function receiptName(triggerName: string, transferId: string, beside = false): string {
  if (!beside && receiptNameFits(triggerName)) return plainReceiptName(triggerName);
  const room = MAX_NAME_BYTES - Buffer.byteLength(`.${transferId}${RECEIPT_SUFFIX}`);
  return `${cutUtf8(stemOf(triggerName), room)}.${transferId}${RECEIPT_SUFFIX}`;
}

function stemOf(triggerName: string): string {
  return triggerName.endsWith(TRIGGER_SUFFIX) ? triggerName.slice(0, -TRIGGER_SUFFIX.length) : triggerName;
}

function plainReceiptName(triggerName: string): string {
  return `${stemOf(triggerName)}${RECEIPT_SUFFIX}`;
}

function cutUtf8(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out, 'utf8') > maxBytes) out = out.slice(0, -1);
  return out;
}

/** Whose receipt it is and for which trigger. */
export interface ReceiptOf {
  dataDir: string;
  db: Queryable;
  transfer: Pick<TransferRow, 'id' | 'senderSystemId' | 'senderUsername' | 'triggerName'>;
}

/** A receipt written and fsynced beside its place, appearing under its name at `commit()`. */
export interface PreparedReceipt {
  /** Puts the receipt in place; returns its path. */
  commit(): Promise<string>;
  discard(): Promise<void>;
}

/**
 * Puts the receipt in the sender's /IN, complete or not at all. A receipt of the same name is
 * replaced: it answers the same trigger name, and the newest answer is the one that holds (a retried
 * transfer's SUCCESS replaces its DELIVERY_FAILED). Writing it twice is harmless. Only a receipt the
 * platform wrote is replaced: another file under that name (delivered there into a flat inbox
 * before such names were refused) is kept, and the receipt goes beside it (receiptName's second form).
 */
export async function writeReceipt(r: ReceiptOf, xml: string): Promise<string> {
  return (await prepareReceipt(r, xml)).commit();
}

/**
 * `writeReceipt` in two halves: the bytes written and fsynced now (hidden, beside the receipt), the
 * receipt appearing under its name only at `commit()`. Lets the receipt's fsync run while the
 * deliveries are placed, without the sender seeing the receipt before the last metadata.
 */
export async function prepareReceipt(r: ReceiptOf, xml: string): Promise<PreparedReceipt> {
  const dir = inDir(r.dataDir, r.transfer.senderUsername);
  const target = join(dir, receiptName(r.transfer.triggerName, r.transfer.id));
  // The sender's IN exists but for a home made by hand: made only then (see placeDeliveryFile).
  const prepared = await prepareReplacement(target, xml).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    return prepareReplacement(target, xml);
  });
  return {
    async commit() {
      const to = (await mayReplace(r, target, xml)) ? target : join(dir, receiptName(r.transfer.triggerName, r.transfer.id, true));
      if (to !== target) {
        log.warn({ op: 'route', transferId: r.transfer.id, system: r.transfer.senderUsername }, 'a file that is not a receipt of the platform holds the receipt\'s name; the receipt goes beside it');
      }
      await prepared.commit(to);
      return to;
    },
    discard: () => prepared.discard(),
  };
}

/** Nothing at `target`, the same receipt, or a receipt the platform wrote for this sender. */
async function mayReplace(r: ReceiptOf, target: string, xml: string): Promise<boolean> {
  let there: string;
  try {
    there = (await readAtMost(target, 64 * 1024)).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EISDIR') return false;
    throw err;
  }
  return there === xml || isPlatformReceipt(r.db, r.transfer.senderSystemId, there);
}
