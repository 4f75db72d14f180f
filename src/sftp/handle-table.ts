import type { ReadCoverage } from './fetch-tracking.js';
import type { HandleBudget } from './handle-budget.js';
import { ReplyOrder } from './reply.js';
import type { Resolved } from './sealed-home.js';
import { failure } from './sftp-error.js';
import type { Upload } from './upload.js';

export interface FileHandle {
  kind: 'file';
  r: Resolved;
  fd: number;
  readable: boolean;
  upload?: Upload;
  /** A download of a delivered file: which bytes were read (SPEC §6 fetched). */
  coverage?: ReadCoverage;
  /** Reads and writes in flight: CLOSE and FSETSTAT wait for them. */
  pending: Set<Promise<unknown>>;
  replies: ReplyOrder;
}
export interface DirHandle {
  kind: 'dir';
  r: Resolved;
  names: string[] | undefined;
  pos: number;
  replies: ReplyOrder;
}
export type Handle = FileHandle | DirHandle;
type NewHandle = Omit<FileHandle, 'pending' | 'replies'> | Omit<DirHandle, 'replies'>;

/**
 * The handles one SFTP session has issued (4-byte ids, never reused), and the uploads it has open
 * by name in /OUT — from OPEN until their CLOSE has finished (STAT and SETSTAT of that name go to
 * the upload). Every handle also counts against the system's and the process's budget.
 */
export class HandleTable {
  private readonly byId = new Map<number, Handle>();
  private next = 1;
  readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly max: number,
    private readonly budget: HandleBudget,
    private readonly system: string,
  ) {}

  /** Refuses before any work when the session, the system or the process holds its most handles. */
  checkRoom(): void {
    if (this.byId.size >= this.max) {
      throw failure(`Too many open handles (${this.max}) in this session; close some before opening more`);
    }
    this.budget.check(this.system);
  }

  add(h: NewHandle): Buffer {
    this.checkRoom();
    this.budget.take(this.system);
    const id = this.next++;
    this.byId.set(id, h.kind === 'file' ? { ...h, pending: new Set(), replies: new ReplyOrder() } : { ...h, replies: new ReplyOrder() });
    const buf = Buffer.allocUnsafe(4);
    buf.writeUInt32BE(id, 0);
    return buf;
  }

  /** The handle, if this session issued it and it is still open. */
  find(handle: Buffer): Handle | undefined {
    return handle.length === 4 ? this.byId.get(handle.readUInt32BE(0)) : undefined;
  }

  get(handle: Buffer): Handle {
    const h = this.find(handle);
    if (!h) throw failure(`Invalid handle (not issued in this session, or already closed)`);
    return h;
  }

  file(handle: Buffer): FileHandle {
    const h = this.get(handle);
    if (h.kind !== 'file') throw failure(`${h.r.path} is a folder handle; this request needs a file handle`);
    return h;
  }

  /** CLOSE: the handle is gone for every later request. */
  take(handle: Buffer): Handle {
    const h = this.get(handle);
    this.byId.delete(handle.readUInt32BE(0));
    this.budget.give(this.system);
    return h;
  }

  pathOf(handle: Buffer): string {
    return this.find(handle)?.r.path ?? '(handle)';
  }

  /** The upload of `name` this session has open and not yet closed. */
  openUpload(name: string): Upload | undefined {
    const upload = this.uploads.get(name);
    return upload && !upload.isDone ? upload : undefined;
  }

  /** Counts `p` as in flight on `h` until it settles. */
  track(h: FileHandle, p: Promise<unknown>): void {
    h.pending.add(p);
    const done = () => h.pending.delete(p);
    p.then(done, done);
  }

  /** Waits until nothing is in flight on `h`. */
  async idle(h: FileHandle): Promise<void> {
    while (h.pending.size) await Promise.allSettled([...h.pending]);
  }

  /** Everything still in flight on any handle. */
  pending(): Array<Promise<unknown>> {
    return [...this.byId.values()].flatMap((h) => (h.kind === 'file' ? [...h.pending] : []));
  }

  /** The session ended: every handle is gone; returns them for cleaning up. */
  clear(): Handle[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (let i = 0; i < all.length; i++) this.budget.give(this.system);
    return all;
  }

  get size(): number {
    return this.byId.size;
  }
}
