import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inDir, RECEIPT_SUFFIX, TRIGGER_SUFFIX } from '../storage/homes.js';
import { prepareReplacement, writeFileAtomically, type PreparedReplacement } from '../storage/place-atomically.js';

/** SPEC §7: the receipt is named after the trigger without `.trigger`. */
export function receiptName(triggerName: string): string {
  const stem = triggerName.endsWith(TRIGGER_SUFFIX) ? triggerName.slice(0, -TRIGGER_SUFFIX.length) : triggerName;
  return `${stem}${RECEIPT_SUFFIX}`;
}

/**
 * Puts the receipt in the sender's /IN, complete or not at all. A receipt of the same name is
 * replaced: it answers the same trigger name, and the newest answer is the one that holds (a retried
 * transfer's SUCCESS replaces its DELIVERY_FAILED). Writing it twice is harmless.
 */
export async function writeReceipt(dataDir: string, senderUsername: string, triggerName: string, xml: string): Promise<string> {
  const dir = inDir(dataDir, senderUsername);
  await mkdir(dir, { recursive: true });
  const path = join(dir, receiptName(triggerName));
  await writeFileAtomically(path, xml, { replace: true });
  return path;
}

/**
 * `writeReceipt` in two halves: the bytes written and fsynced now (beside the receipt, hidden), the
 * receipt appearing under its name only at `commit()`. Lets the receipt's fsync run while the
 * deliveries are placed, without the sender seeing the receipt before the last metadata.
 */
export async function prepareReceipt(dataDir: string, senderUsername: string, triggerName: string, xml: string): Promise<PreparedReplacement> {
  const dir = inDir(dataDir, senderUsername);
  await mkdir(dir, { recursive: true });
  return prepareReplacement(join(dir, receiptName(triggerName)), xml);
}
