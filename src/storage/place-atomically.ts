import { createHash } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { FILE_MODE } from './homes.js';
import { placeTempBeside } from './temp-names.js';

/**
 * What placing a file found at its target name:
 * - `placed`: it is there now, put there by this call;
 * - `ours`:   it was already there from an earlier run of the same step (same inode, or same bytes);
 * - `taken`:  another file has that name; nothing was changed.
 */
export type PlaceOutcome = 'placed' | 'ours' | 'taken';

/**
 * Puts `source` at `target` complete or not at all, never replacing anything: a hard link when both
 * are on one filesystem (the data folder's normal case: spool and homes share it), else a streamed
 * copy to a hidden temp beside the target, fsync, then a link to the real name (link fails rather
 * than overwrite, so two writers cannot both win a name). `sha256` (of source) tells our own copy
 * from a stranger's when a crashed copy is retried.
 */
export async function placeFileAtomically(source: string, target: string, sha256: string): Promise<PlaceOutcome> {
  try {
    await link(source, target);
    return 'placed';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // On one filesystem a file of ours is the same inode; equal bytes alone do not make it ours (the
    // same content sent twice must be delivered twice).
    if (code === 'EEXIST') {
      if (await sameFile(source, target)) return 'ours';
      // Across filesystems our earlier run made a copy, not a link: then the bytes tell.
      return (await onOtherDevice(source, target)) && (await sameBytes(target, sha256)) ? 'ours' : 'taken';
    }
    if (code !== 'EXDEV') throw err;
  }
  const temp = placeTempBeside(target, createHash('sha256').update(`${source}\0${sha256}`).digest('hex'));
  try {
    await copyWithFsync(source, temp);
    try {
      await link(temp, target);
      return 'placed';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return (await sameBytes(target, sha256)) ? 'ours' : 'taken';
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Writes `bytes` at `target` complete or not at all (temp, fsync, then link or rename).
 * `replace: false` never overwrites (an identical file already there counts as `ours`);
 * `replace: true` atomically replaces what is there (receipts: the newest one for a trigger name wins).
 */
export async function writeFileAtomically(target: string, bytes: Buffer | string, opts: { replace: boolean }): Promise<PlaceOutcome> {
  if (opts.replace) {
    await (await prepareReplacement(target, bytes)).commit();
    return 'placed';
  }
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const digest = createHash('sha256').update(data).digest('hex');
  const temp = placeTempBeside(target, digest);
  await writeSynced(temp, data);
  try {
    try {
      await link(temp, target);
      return 'placed';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return (await sameBytes(target, digest)) ? 'ours' : 'taken';
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** A file written and fsynced under its hidden temp name, waiting to be renamed into place. */
export interface PreparedReplacement {
  /** Renames it over `target`, or over `to` beside it (atomic: readers see the old file or the new one, whole). */
  commit(to?: string): Promise<void>;
  /** Removes the temp instead (the write is not wanted after all). */
  discard(): Promise<void>;
}

/**
 * The slow half of `writeFileAtomically(target, bytes, { replace: true })` — write and fsync — done
 * ahead, so its fsync can overlap other work; nothing is visible at `target` until `commit()`. Run
 * again after a crash it writes the same temp (named after the bytes) and so leaves nothing behind.
 */
export async function prepareReplacement(target: string, bytes: Buffer | string): Promise<PreparedReplacement> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const temp = placeTempBeside(target, createHash('sha256').update(data).digest('hex'));
  await writeSynced(temp, data);
  return {
    commit: (to = target) => rename(temp, to),
    discard: () => unlink(temp).catch(() => undefined),
  };
}

async function writeSynced(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w', FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Same inode on the same device: one file under two names. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

async function onOtherDevice(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
  return sa.dev !== sb.dev;
}

async function sameBytes(path: string, sha256: string): Promise<boolean> {
  try {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
    return hash.digest('hex') === sha256;
  } catch {
    return false;
  }
}

async function copyWithFsync(source: string, temp: string): Promise<void> {
  const fh = await open(temp, 'w', FILE_MODE);
  try {
    for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
