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

/**
 * One measurement of /OUT and the database serves a session's uploads for this long; the bytes of
 * the uploads it closes meanwhile are added to it. Measuring at every OPEN listed and stat-ed all of
 * /OUT and asked PostgreSQL for each small file (10 ms of CPU per file with 1,000 files in /OUT).
 */
const REUSE_MS = 1000;

/** A session's view of its system's quota: measured at most once a second, kept up to date in between. */
export class QuotaMeter {
  private last: { at: number; state: Promise<QuotaState> } | undefined;
  private added = 0;

  constructor(
    private readonly outDir: string,
    private readonly lookup: () => Promise<{ quotaBytes: number; spooledBytes: number }>,
    private readonly now: () => number = Date.now,
  ) {}

  async measure(): Promise<QuotaState> {
    const t = this.now();
    if (!this.last || t - this.last.at > REUSE_MS) {
      this.last = { at: t, state: quotaState(this.outDir, this.lookup) };
      this.added = 0;
    }
    const added = this.added;
    const s = await this.last.state;
    return { quotaBytes: s.quotaBytes, heldBytes: s.heldBytes + added };
  }

  /** An upload of this session closed with `bytes`: held from now on. */
  closed(bytes: number): void {
    this.added += bytes;
  }

  /** Something left /OUT (removed or renamed): the next upload measures again. */
  forget(): void {
    this.last = undefined;
  }
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
