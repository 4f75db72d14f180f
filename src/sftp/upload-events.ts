import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';

/** After an upload's temp file was renamed to its real name in /OUT (the file is complete). */
export interface UploadClosed {
  systemId: number;
  username: string;
  /** The file's name in /OUT. */
  name: string;
  absPath: string;
  size: number;
  /** SHA-256 (lower-case hex) of the bytes, when they all arrived in order; else undefined. */
  sha256?: string;
  /** performance.now() when the file got its real name. */
  at: number;
}

/** A RENAME inside /OUT (WinSCP uploads `x.trigger.filepart`, then renames it to `x.trigger`). */
export interface UploadRenamed {
  systemId: number;
  username: string;
  from: string;
  to: string;
  /** Absolute path of the file under its new name. */
  absPath: string;
}

interface UploadEventMap {
  closed: [UploadClosed];
  renamed: [UploadRenamed];
}

/** What the SFTP edge tells the rest of the node (the router subscribes). Listeners must not throw. */
export const uploadEvents = new EventEmitter<UploadEventMap>();
uploadEvents.setMaxListeners(50);

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
