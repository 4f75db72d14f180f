import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../log.js';
import { isUploadTempName } from '../storage/temp-names.js';

/**
 * Removes upload temp files (`.<name>.fu-upload-*`) older than `maxAgeMs` from every home's /OUT:
 * leftovers of a node that died mid-upload. Younger ones may belong to a live upload on another
 * node sharing the data folder, so they stay.
 */
export async function sweepStaleUploads(homesDir: string, maxAgeMs = 24 * 3600_000, now = Date.now()): Promise<number> {
  let users: string[];
  try {
    users = await readdir(homesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const user of users) {
    const out = join(homesDir, user, 'OUT');
    const names = await readdir(out).catch(() => [] as string[]);
    for (const name of names) {
      if (!isUploadTempName(name)) continue;
      const file = join(out, name);
      const st = await stat(file).catch(() => undefined);
      if (!st || now - st.mtimeMs < maxAgeMs) continue;
      await unlink(file).catch(() => undefined);
      removed++;
      log.info({ op: 'upload', system: user, file: name }, `removed a stale unfinished upload ${name}`);
    }
  }
  return removed;
}
