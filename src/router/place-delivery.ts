import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DIR_MODE, inDir, METADATA_SUFFIX } from '../storage/homes.js';
import { exists } from '../storage/move-into.js';
import { placeFileAtomically, sameFile, writeFileAtomically } from '../storage/place-atomically.js';

/** Where one recipient's copy goes: IN/<authority folder>/ (per-authority inbox) or IN/ (flat). */
export function deliveryDir(dataDir: string, recipientUsername: string, folder: string | null): string {
  return folder === null ? inDir(dataDir, recipientUsername) : join(inDir(dataDir, recipientUsername), folder);
}

/** The names a delivery may get, in order: the file's own, then `<name>.<FileTransferUUID>` (SPEC §5). */
export function candidateNames(fileName: string, transferId: string): string[] {
  return [fileName, `${fileName}.${transferId}`];
}

/**
 * The one place a delivery's data file is placed: `spoolFile` appears in `dir` complete or not at
 * all, never over another file. Returns the name it has there. Run again after a crash it finds its
 * own earlier link (same inode) and returns that name instead of placing a second copy.
 */
export async function placeDeliveryFile(spoolFile: string, dir: string, fileName: string, transferId: string, sha256: string): Promise<string> {
  // The folder is there but for a recipient's first file from an authority: made only then (a
  // mkdir of a folder that exists costs two file system calls per delivery).
  try {
    return await placeIn(spoolFile, dir, fileName, transferId, sha256);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    return placeIn(spoolFile, dir, fileName, transferId, sha256);
  }
}

async function placeIn(spoolFile: string, dir: string, fileName: string, transferId: string, sha256: string): Promise<string> {
  for (const name of candidateNames(fileName, transferId)) {
    const target = join(dir, name);
    // A metadata file left without its data file (the recipient deleted only the data) still holds the name.
    if (name === fileName && (await exists(target + METADATA_SUFFIX)) && !(await sameFile(spoolFile, target))) continue;
    const outcome = await placeFileAtomically(spoolFile, target, sha256);
    if (outcome !== 'taken') return name;
  }
  throw new Error(`Cannot deliver '${fileName}' into ${dir}: both '${fileName}' and '${fileName}.${transferId}' are taken by other files`);
}

/** The delivered file's `.metadata`, written after the file is complete; never over another file. */
export async function placeDeliveryMetadata(dir: string, deliveredName: string, xml: string): Promise<void> {
  const outcome = await writeFileAtomically(join(dir, deliveredName + METADATA_SUFFIX), xml, { replace: false });
  if (outcome === 'taken') throw new Error(`Cannot write '${deliveredName}${METADATA_SUFFIX}' into ${dir}: another file has that name`);
}

/**
 * Undoes phase one of a delivery that will not complete: removes data files this transfer linked
 * (same inode as the spool copy) whose metadata was never written, so no recipient keeps half a
 * transfer. Returns the paths removed.
 */
export async function withdrawUnannounced(spoolFile: string, dir: string, fileName: string, transferId: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of candidateNames(fileName, transferId)) {
    const target = join(dir, name);
    if ((await sameFile(spoolFile, target)) && !(await exists(target + METADATA_SUFFIX))) {
      await unlink(target);
      removed.push(target);
    }
  }
  return removed;
}
