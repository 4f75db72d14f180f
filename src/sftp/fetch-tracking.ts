import type { DeliveredFile } from '../deliveries/record-fetch.js';
import type { Logger } from '../log.js';
import type { Resolved } from './sealed-home.js';

/** Where the SFTP edge reports that a recipient fetched or deleted a delivered file. */
export interface DeliveryEvents {
  fetched(place: DeliveredFile): Promise<unknown>;
  deleted(place: DeliveredFile): Promise<unknown>;
}

/** Files in IN that are never deliveries: the platform's receipts and the metadata beside each file. */
const NOT_DELIVERIES = ['.sftpreceipt', '.metadata'];

/** The delivered file an IN path names, or undefined for anything else (receipts, metadata, folders). */
export function deliveredPlace(r: Resolved, systemId: number): DeliveredFile | undefined {
  if (r.place.kind !== 'in') return undefined;
  const rel = r.place.rel;
  const name = rel[rel.length - 1];
  if (!name || rel.length > 2 || NOT_DELIVERIES.some((s) => name.endsWith(s))) return undefined;
  return { recipientSystemId: systemId, folder: rel.length === 2 ? rel[0]! : null, name };
}

/**
 * Whether this session has read one file (one inode) whole, over all its handles on it (SPEC §6:
 * every byte read, by one or several handles, or a read reaching end of file). Every byte read
 * takes a read that reaches the file's end, so that read alone decides it: a read adds a comparison,
 * not a range. The record is made once, when a handle closes.
 */
export class ReadCoverage {
  private reachedEnd = false;
  recorded = false;

  constructor(
    readonly place: DeliveredFile,
    private readonly size: number,
  ) {}

  /** A read of `got` bytes at `offset` (0 bytes: the client read at or past the end). */
  add(offset: number, got: number): void {
    if (got === 0 || offset + got >= this.size) this.reachedEnd = true;
  }

  /** A read reached the end of the file, or it is empty (SPEC §6's "fetched"). */
  get whole(): boolean {
    return this.reachedEnd || this.size === 0;
  }
}

/** One session's read coverage per delivered file, and the records it makes at CLOSE and REMOVE. */
export class FetchTracker {
  private readonly byFile = new Map<string, ReadCoverage>();

  constructor(
    private readonly events: DeliveryEvents | undefined,
    private readonly log: Logger,
  ) {}

  /** A download handle opened on `r` (of `size` bytes, inode `ino`): the coverage its reads add to. */
  opened(r: Resolved, systemId: number, ino: number, size: number): ReadCoverage | undefined {
    if (!this.events) return undefined;
    const place = deliveredPlace(r, systemId);
    if (!place) return undefined;
    const key = `${ino}:${r.abs}`;
    let c = this.byFile.get(key);
    if (!c) this.byFile.set(key, (c = new ReadCoverage(place, size)));
    return c;
  }

  /**
   * A handle closed. Not awaited by the CLOSE reply: the client's download is complete either way,
   * and a record that fails (database away) is logged; status then still shows the file unfetched.
   */
  closed(c: ReadCoverage | undefined): void {
    if (!this.events || !c || c.recorded || !c.whole) return;
    c.recorded = true;
    this.events.fetched(c.place).catch((err: unknown) => this.log.warn({ op: 'fetched', err, file: c.place.name }, 'could not record that a delivered file was fetched'));
  }

  /** A file in IN was removed: recorded as deleted if it is a delivery. */
  removed(r: Resolved, systemId: number): void {
    const place = deliveredPlace(r, systemId);
    if (!this.events || !place) return;
    for (const [key, c] of this.byFile) if (c.place.folder === place.folder && c.place.name === place.name) this.byFile.delete(key);
    this.events.deleted(place).catch((err: unknown) => this.log.warn({ op: 'deleted', err, file: place.name }, 'could not record that a delivered file was deleted'));
  }
}
