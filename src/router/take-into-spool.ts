import { chmod, link, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../storage/hash-file.js';
import { FILE_MODE, outDir } from '../storage/homes.js';
import { moveInto } from '../storage/move-into.js';
import { uploadInProgress } from '../storage/temp-names.js';
import type { SystemRow } from '../systems/find-system.js';
import type { TransferFacts } from './decide-transfer.js';
import { failpoint } from './failpoint.js';
import { triggerKey } from './intake/trigger-key.js';
import { RouteLater } from './routing-error.js';
import { spoolDir } from './spool.js';
import type { TransferRow } from './sql/transfer-row.js';
import type { StepContext } from './step-context.js';

/**
 * Out of the sender's reach: a `received` transfer's trigger, then its data file, move from OUT into
 * the spool (rename: same inode, nothing copied). Each move is idempotent: a job run again finds the
 * file in the spool already.
 */

/** Moves the trigger into the spool (its recorded text stands in when the owner deleted it first). True when this run moved it. */
export async function takeTrigger(ctx: StepContext, t: TransferRow, sender: SystemRow): Promise<boolean> {
  const spool = spoolDir(ctx.deps.dataDir, t.id);
  const out = outDir(ctx.deps.dataDir, sender.username);
  const took = await moveInto(join(out, t.triggerName), spool, t.triggerName);
  if (took === 'missing') await writeFile(join(spool, t.triggerName), t.triggerXml ?? '');
  if (took !== 'moved') return false;
  await giveBackNewerTrigger(ctx, t, sender, out, spool);
  ctx.steps.add('trigger-taken');
  failpoint('trigger-taken');
  return true;
}

/**
 * The trigger file moved into the spool must be the one this transfer was made of. If the sender
 * replaced it under the same name in the meantime, the newer file goes back to OUT (it is its own
 * transfer, picked up by the next scan) and this transfer keeps the bytes it recorded.
 */
async function giveBackNewerTrigger(ctx: StepContext, t: TransferRow, sender: SystemRow, out: string, spool: string): Promise<void> {
  if (!t.triggerKey) return;
  const inSpool = join(spool, t.triggerName);
  if (triggerKey(sender.username, t.triggerName, await stat(inSpool, { bigint: true })) === t.triggerKey) return;
  try {
    await link(inSpool, join(out, t.triggerName));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Replaced yet again: the newest is in OUT; this middle one the sender overwrote itself.
    ctx.log.warn({ trigger: t.triggerName }, 'the trigger was replaced twice while being taken; the newest one stays in OUT');
  }
  await unlink(inSpool); // the newer bytes live on under OUT; ours come from the record
  await writeFile(inSpool, t.triggerXml ?? '');
  ctx.log.info({ trigger: t.triggerName }, 'the sender replaced the trigger while it was being taken; the newer one went back to OUT');
}

/** A resend's data file goes to the quarantine with its trigger: into the spool, no questions asked. */
export async function takeResentFile(ctx: StepContext, t: TransferRow, sender: SystemRow, fileName: string | undefined): Promise<void> {
  if (fileName === undefined || !isPlainName(fileName) || fileName === t.triggerName) return;
  await moveInto(join(outDir(ctx.deps.dataDir, sender.username), fileName), spoolDir(ctx.deps.dataDir, t.id), fileName, { dirReady: true });
}

/**
 * Moves the data file named `fileName` into the spool (the trigger's move made the spool folder).
 * Returns what deciding needs to know of it (its SHA-256 read at most once, and only when asked for),
 * or undefined when there is no such file. A file still being uploaded (`waitForUpload`) is waited for.
 */
export async function takeDataFile(
  ctx: StepContext,
  t: TransferRow,
  sender: SystemRow,
  fileName: string | undefined,
  waitForUpload: boolean,
): Promise<TransferFacts['file']> {
  if (fileName === undefined || !isPlainName(fileName) || fileName === t.triggerName) return undefined;
  const out = outDir(ctx.deps.dataDir, sender.username);
  const original = join(out, fileName);
  const spool = spoolDir(ctx.deps.dataDir, t.id);
  let took = await moveInto(original, spool, fileName, { dirReady: true });
  if (took === 'missing' && waitForUpload) {
    if (await uploadInProgress(out, fileName)) {
      // Look again soon for a small file, less often the longer the upload has been running.
      const waited = Date.now() - t.receivedAt.getTime();
      throw new RouteLater(`the data file '${fileName}' is still being uploaded`, Math.min(5000, Math.max(100, Math.floor(waited / 10))));
    }
    // An upload that ended between the move and the look for its temp renamed the temp to the
    // file's name: the file is there now, so it is not missing. Without this second move such a file
    // was refused as FILE_MISSING (e2e-routing's late upload, at times, on a loaded machine).
    took = await moveInto(original, spool, fileName, { dirReady: true });
  }
  if (took === 'missing') return undefined;
  if (took === 'moved') {
    ctx.steps.add('file-taken', { name: fileName });
    failpoint('file-taken');
  }
  const inSpool = join(spool, fileName);
  await chmod(inSpool, FILE_MODE); // every recipient's link shares this inode: one mode for all delivered files
  const st = await stat(inSpool);
  let hash: Promise<string> | undefined;
  return {
    size: st.size,
    sha256: () =>
      (hash ??= (async () => {
        const known = await ctx.deps.hashes.take(original, inSpool);
        const sha = known ?? (await sha256File(inSpool));
        ctx.steps.add('hashed', { sha256: sha, reusedUploadHash: known !== undefined });
        return sha;
      })()),
  };
}

function isPlainName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}
