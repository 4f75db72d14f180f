import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { failure, type SftpError } from './sftp-error.js';

/** A system's quota and what it holds already (its /OUT by allocated blocks, plus its spooled transfers). */
export interface QuotaState {
  quotaBytes: number;
  heldBytes: number;
}

type Lookup = () => Promise<{ quotaBytes: number; spooledBytes: number }>;

/**
 * One full measurement (issue 12 item 3): the allocated blocks of every file in /OUT (uploads in
 * progress included) and the system's transfers still in the spool, by the database.
 */
export async function quotaState(outDir: string, lookup: Lookup): Promise<QuotaState> {
  const [names, { quotaBytes, spooledBytes }] = await Promise.all([readdir(outDir).catch(() => [] as string[]), withinMs(lookup(), LOOKUP_MS)]);
  const sizes = await Promise.all(names.map((n) => lstat(join(outDir, n)).then((st) => (st.isFile() ? st.blocks * 512 : 0), () => 0)));
  return { quotaBytes, heldBytes: spooledBytes + sizes.reduce((a, b) => a + b, 0) };
}

/** A measurement this old is taken again at the next upload's OPEN… */
export const QUOTA_MAX_AGE_MS = 10_000;
/** …and one older than this while less than a tenth of the quota is free, or after a removal. */
export const QUOTA_NEAR_AGE_MS = 1000;
/** Without a measurement (the database did not answer), the next upload asks again after this long. */
const RETRY_MS = 1000;

/**
 * A system's quota as this node's sessions see it: all its sessions on the node share one. It is
 * measured (quotaState) at the first upload's OPEN and then kept by count: every byte an upload of
 * these sessions adds is counted as it is written, so uploads open at the same time share the
 * room left, and a discarded upload or a replaced file gives its bytes back. Measuring at every
 * OPEN listed and stat-ed all of /OUT and queried PostgreSQL for each small file (10 ms of CPU per
 * file with 1,000 files in /OUT); now a measurement serves every upload for 10 s.
 *
 * What the count cannot see — uploads through other nodes, deliveries leaving the spool — is seen
 * at the next measurement: after 10 s, or after 1 s while less than a tenth of the quota is free
 * (a removal in /OUT also asks for one then), so near the quota it is as fresh as it was when
 * every OPEN measured at most once a second.
 */
export class SystemQuota {
  private base: QuotaState | undefined;
  private measuredAt = -Infinity;
  /** Bytes this node's uploads added since `base` was measured (less what they gave back). */
  private added = 0;
  private removed = false;
  private measuring: Promise<void> | undefined;

  constructor(
    private readonly outDir: string,
    private readonly lookup: Lookup,
    private readonly onError: (err: Error, kept: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Before an upload opens: measures again when the measurement is stale (see the class), and
   * returns what is held now — undefined while the database has not told the quota (the upload
   * then goes on without one, as uploads did before quotas).
   */
  async current(): Promise<QuotaState | undefined> {
    if (this.stale()) await (this.measuring ??= this.measure().finally(() => (this.measuring = undefined)));
    return this.state();
  }

  /** What is held now, by the last measurement and the count since; undefined without one. */
  state(): QuotaState | undefined {
    return this.base && { quotaBytes: this.base.quotaBytes, heldBytes: this.base.heldBytes + this.added };
  }

  /**
   * An upload grows by `bytes`: counted, unless `enforce` and that would hold more than the quota
   * (then false, and nothing is counted).
   */
  grow(bytes: number, enforce: boolean): boolean {
    if (enforce && this.base && this.base.heldBytes + this.added + bytes > this.base.quotaBytes) return false;
    this.added += bytes;
    return true;
  }

  /** `bytes` counted by `grow` are no longer held (the upload was discarded, or replaced a file). */
  shrink(bytes: number): void {
    this.added -= bytes;
  }

  /** A file left /OUT (REMOVE, a replacing RENAME): near the quota, the next OPEN measures again. */
  forget(): void {
    this.removed = true;
  }

  private stale(): boolean {
    const age = this.now() - this.measuredAt;
    if (!this.base) return age > RETRY_MS;
    if (age > QUOTA_MAX_AGE_MS) return true;
    const s = this.state()!;
    const near = s.quotaBytes - s.heldBytes < s.quotaBytes / 10;
    return near && (this.removed || age > QUOTA_NEAR_AGE_MS);
  }

  private async measure(): Promise<void> {
    const at = this.now();
    const addedBefore = this.added;
    this.removed = false;
    try {
      this.base = await quotaState(this.outDir, this.lookup);
      // What was added while the folder was being measured stays counted (at worst twice, for a
      // moment): the count errs towards holding more, never less.
      this.added -= addedBefore;
    } catch (err) {
      this.onError(err as Error, this.base !== undefined);
    } finally {
      this.measuredAt = at;
    }
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

/**
 * The quotas of the systems with sessions on this node, one each, for as long as the system has a
 * session here.
 */
export class SystemQuotas {
  private readonly bySystem = new Map<number, { quota: SystemQuota; sessions: number }>();

  constructor(private readonly make: (systemId: number, outDir: string) => SystemQuota) {}

  /** A session of `systemId` begins: its system's quota (made at the first). Call `release` at its end. */
  acquire(systemId: number, outDir: string): SystemQuota {
    let e = this.bySystem.get(systemId);
    if (!e) this.bySystem.set(systemId, (e = { quota: this.make(systemId, outDir), sessions: 0 }));
    e.sessions++;
    return e.quota;
  }

  release(systemId: number): void {
    const e = this.bySystem.get(systemId);
    if (e && --e.sessions === 0) this.bySystem.delete(systemId);
  }
}
