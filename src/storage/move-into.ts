import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DIR_MODE } from './homes.js';

/**
 * Moves `source` to `<dir>/<name>` by rename (same filesystem: atomic, keeps the inode). Idempotent
 * for a step that is run again: `moved` when this call moved it, `already` when it is at the
 * destination and no longer at the source, `missing` when it is in neither place. `dirReady`: the
 * caller knows `dir` exists (saves the mkdir).
 */
export async function moveInto(source: string, dir: string, name: string, opts: { dirReady?: boolean } = {}): Promise<'moved' | 'already' | 'missing'> {
  const target = join(dir, name);
  if (!opts.dirReady) await mkdir(dir, { recursive: true, mode: DIR_MODE });
  try {
    await rename(source, target);
    return 'moved';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return (await exists(target)) ? 'already' : 'missing';
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

/** Renames a folder into place; if part of it was moved before (a re-run), moves what is left. */
export async function moveTree(from: string, to: string): Promise<void> {
  if (!(await exists(from))) return;
  await mkdir(join(to, '..'), { recursive: true, mode: DIR_MODE });
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
