import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The hidden names files have while they are being written. Every one starts with '.', so the OUT
 * watcher, the intake scans and directory listings pass them by; the SFTP edge and the router both
 * need to know them (an upload in progress; a placement in progress).
 */

/**
 * The hidden name an upload of `name` writes to, in the same folder: `.<name>.fu-upload-<hex>`.
 * Names over 200 bytes (the temp name must stay within 255) use a digest of the name instead.
 */
export const UPLOAD_TEMP_MARK = '.fu-upload-';
export function uploadTempPrefix(name: string): string {
  const stem = Buffer.byteLength(name) <= 200 ? name : `${createHash('sha256').update(name).digest('hex').slice(0, 40)}~`;
  return `.${stem}${UPLOAD_TEMP_MARK}`;
}
const TEMP_RE = /^\..+\.fu-upload-[0-9a-f]+$/;
export function isUploadTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

/**
 * True when an upload of `name` into `outDir` is in progress on any node sharing the data folder
 * (a `.<name>.fu-upload-*` temp file exists).
 */
export async function uploadInProgress(outDir: string, name: string): Promise<boolean> {
  const prefix = uploadTempPrefix(name);
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  return entries.some((e) => e.startsWith(prefix) && /^[0-9a-f]+$/.test(e.slice(prefix.length)));
}

/**
 * The hidden temp a placement writes beside `target` before linking or renaming it into place: a
 * short name of fixed length (`.fu-place-` and 32 hex digits), so a target of 255 bytes has a temp
 * too. Named after the target and what it will hold (`tag`: a digest of the bytes, or of source and
 * bytes), so a step run again after a crash writes the same temp again instead of leaving the first
 * one behind, while different targets or contents never share a temp.
 */
export const PLACE_TEMP_MARK = '.fu-place-';
export function placeTempBeside(target: string, tag: string): string {
  const digest = createHash('sha256').update(`${basename(target)}\0${tag}`).digest('hex').slice(0, 32);
  return join(dirname(target), `${PLACE_TEMP_MARK}${digest}`);
}
