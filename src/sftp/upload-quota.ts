import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { failure, type SftpError } from './sftp-error.js';

/** A system's quota and what it holds already (its /OUT by allocated blocks, plus its spooled transfers). */
export interface QuotaState {
  quotaBytes: number;
  heldBytes: number;
}

/**
 * What an upload opening now may hold (issue 12 item 3): the quota less the allocated blocks of every
 * file in /OUT (uploads in progress included) and the system's transfers still in the spool.
 * Uploads open at the same time are each measured against what was held when they opened.
 */
export async function quotaState(outDir: string, lookup: () => Promise<{ quotaBytes: number; spooledBytes: number }>): Promise<QuotaState> {
  const [names, { quotaBytes, spooledBytes }] = await Promise.all([readdir(outDir).catch(() => [] as string[]), withinMs(lookup(), LOOKUP_MS)]);
  const sizes = await Promise.all(names.map((n) => lstat(join(outDir, n)).then((st) => (st.isFile() ? st.blocks * 512 : 0), () => 0)));
  return { quotaBytes, heldBytes: spooledBytes + sizes.reduce((a, b) => a + b, 0) };
}

/** A database that does not answer within this long does not hold up the upload. */
const LOOKUP_MS = 3000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function overQuota(system: string, clientPath: string, q: QuotaState): SftpError {
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;
  return failure(
    `Cannot store ${clientPath}: ${system} would hold more than its quota of ${q.quotaBytes} bytes (${gib(q.quotaBytes)}) in /OUT and the spool, ` +
      `where ${q.heldBytes} bytes (${gib(q.heldBytes)}) are held already; nothing was stored. Remove files from /OUT or let routing take them, or ask the operator to raise the quota`,
  );
}
