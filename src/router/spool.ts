import { readdir, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../db/pool.js';
import { dataLayout } from '../storage/homes.js';
import { readAtMost } from '../storage/read-at-most.js';
import { MAX_TRIGGER_BYTES } from '../triggers/namespaces.js';
import { finishedDeliveredAmong } from './sql/record-finished.js';
import type { TransferRow } from './sql/transfer-row.js';

/**
 * The spool: `<data>/spool/<transferId>/` holds a transfer's trigger and data file from the moment
 * they are taken out of the sender's OUT until the recipients hold their links (or the quarantine
 * takes them).
 */
export function spoolDir(dataDir: string, transferId: string): string {
  return join(dataLayout(dataDir).spool, transferId);
}

/** The trigger's bytes: the spool copy, else (never taken: the owner deleted it first) the stored text. */
export async function triggerBytes(dataDir: string, t: TransferRow): Promise<Buffer> {
  try {
    return await readAtMost(join(spoolDir(dataDir, t.id), t.triggerName), MAX_TRIGGER_BYTES + 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return Buffer.from(t.triggerXml ?? '', 'utf8');
  }
}

/** Removes a delivered transfer's spool folder: its two known files, then the folder (else all of it). */
export async function clearSpool(dir: string, names: string[]): Promise<void> {
  try {
    await Promise.all(names.map((n) => unlink(join(dir, n))));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true }); // something else in it, or gone already
  }
}

/** Spool folders of transfers already finished (a node died between recording and clearing). */
export async function clearFinishedSpool(dataDir: string, client: Queryable): Promise<number> {
  const spool = dataLayout(dataDir).spool;
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
