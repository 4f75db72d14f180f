import { constants as fsc, close, fstat, open, type Stats } from 'node:fs';
import { lstat, readdir, statfs, unlink, link, rename, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SFTPWrapper, InputAttributes } from 'ssh2';
import type { Logger } from '../log.js';
import { uploadBytesTotal, uploadsTotal } from '../metrics/metrics.js';
import { attrsOf, longname, type SftpAttrs } from './file-attrs.js';
import { SealedHome, type Resolved } from './sealed-home.js';
import { denied, failure, noSuchFile, SftpError, STATUS, statusOf } from './sftp-error.js';
import {
  advertiseExtensions,
  DATA_HEADER,
  extendedReply,
  finishData,
  internals,
  onOutgoingDrained,
  outgoingBacklog,
  readStrings,
  resumeIncoming,
  sendPacket,
  uint64,
} from './sftp-wire.js';
import { Reply, ReplyOrder } from './reply.js';
import { readAt, Upload, type UploadFsync, type UploadOwner } from './upload.js';
import { isUploadTempName, uploadEvents } from './upload-events.js';

const openP = promisify(open);
const closeP = promisify(close);
const fstatP = promisify(fstat);

const FLAG = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

/** What OpenSSH's sftp-server advertises too: 256 KiB packets, 255 KiB reads and writes. */
export const MAX_PACKET = 256 * 1024;
export const MAX_READ_WRITE = MAX_PACKET - 1024;
/** A STAT of a file this session uploaded answers for this long, even after routing took it. */
const RECENT_UPLOAD_MS = 30_000;
const READDIR_BATCH = 100;
/** Backpressure: reads in flight, responses waiting for the client's window, and writes in flight. */
const READ_BUDGET = 8 * 1024 * 1024;
const BACKLOG_LIMIT = 4 * 1024 * 1024;
const WRITE_BUDGET = 32 * 1024 * 1024;

export interface SessionOptions {
  owner: UploadOwner;
  home: SealedHome;
  maxFileBytes: number;
  fsync: UploadFsync;
  maxHandles: number;
  /** A client that leaves responses unread this long (window closed) loses the session. */
  stalledMs: number;
  log: Logger;
  onStalled(): void;
  /** Resolves when the home is prepared; requests are held until then. */
  ready: Promise<void>;
}

interface FileHandle {
  kind: 'file';
  r: Resolved;
  fd: number;
  readable: boolean;
  upload?: Upload;
  pending: Set<Promise<unknown>>;
  replies: ReplyOrder;
}
interface DirHandle {
  kind: 'dir';
  r: Resolved;
  names: string[] | undefined;
  pos: number;
  replies: ReplyOrder;
}
type Handle = FileHandle | DirHandle;

/**
 * One SFTP session of one system: ssh2's request events → operations on its sealed home.
 * Every request is checked here against SPEC §3 (what /OUT and /IN allow) before it touches the
 * disk; every refusal is a STATUS with a message that names the path.
 */
export class SftpSession {
  private readonly handles = new Map<number, Handle>();
  private readonly inflight = new Set<Promise<unknown>>();
  private nextHandle = 1;
  private readonly uploadsByName = new Map<string, Upload>();
  private readonly recent = new Map<string, { attrs: SftpAttrs; at: number }>();
  private readonly readQueue: Array<() => void> = [];
  private readBytesInFlight = 0;
  private writeBytesInFlight = 0;
  private readonly held: Buffer[] = [];
  private holding = false;
  private notReady = true;
  /** Hands held input to ssh2's SFTP parser (bypassing the gate). */
  private deliver: (data: Buffer) => unknown = () => undefined;
  private stalledTimer: NodeJS.Timeout | undefined;
  private ended = false;
  /** The server is stopping: no new handles; the ones open may finish. */
  private draining = false;
  private readonly log: Logger;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly o: SessionOptions,
  ) {
    this.log = o.log;
    advertiseExtensions(sftp, {
      'posix-rename@openssh.com': '1',
      'statvfs@openssh.com': '2',
      'fstatvfs@openssh.com': '2',
      'fsync@openssh.com': '1',
      'limits@openssh.com': '1',
    });
    this.installGate();
    // Requests wait (held, not lost) until the home is ready.
    this.holding = true;
    o.ready.then(
      () => {
        this.notReady = false;
        this.pump();
      },
      () => o.onStalled(),
    );
    onOutgoingDrained(sftp, () => this.pump());
    this.attach();
  }

  // ---------------------------------------------------------------------------------------------
  // Request wiring
  private attach(): void {
    const s = this.sftp;
    const on = (
      event: string,
      pathOf: (...args: any[]) => string,
      fn: (rq: Reply, ...args: any[]) => Promise<void> | void,
      handleArg: (...args: any[]) => Buffer | undefined = () => undefined,
    ) => {
      s.on(event as 'OPEN', (reqid: number, ...args: any[]) => {
        if (this.ended) return;
        // A request on a handle answers in its turn among that handle's requests.
        const handle = handleArg(...args);
        const h = handle && handle.length === 4 ? this.handles.get(handle.readUInt32BE(0)) : undefined;
        const rq = new Reply(s, reqid, () => !this.ended, h?.replies.take());
        let result: Promise<void> | void;
        try {
          result = fn.call(this, rq, ...args);
        } catch (err) {
          return this.fail(rq, event, pathOf(...args), err);
        }
        if (result) {
          const tracked = result.catch((err: unknown) => this.fail(rq, event, pathOf(...args), err));
          this.inflight.add(tracked);
          void tracked.finally(() => this.inflight.delete(tracked));
        }
      });
    };
    const p = (path: string) => String(path);
    const h = (handle: Buffer) => this.handlePath(handle);
    on('OPEN', p, this.onOpen);
    const first = (handle: Buffer) => handle;
    on('READ', h, this.onRead, first);
    on('WRITE', h, this.onWrite, first);
    on('CLOSE', h, this.onClose, first);
    on('FSTAT', h, this.onFstat, first);
    on('FSETSTAT', h, this.onFsetstat, first);
    on('STAT', p, this.onStat);
    on('LSTAT', p, this.onStat);
    on('SETSTAT', p, this.onSetstat);
    on('OPENDIR', p, this.onOpendir);
    on('READDIR', h, this.onReaddir, first);
    on('REMOVE', p, this.onRemove);
    on('RENAME', p, (rq: Reply, from: string, to: string) => this.onRename(rq, from, to, false));
    on('REALPATH', p, this.onRealpath);
    on('MKDIR', p, (_rq: Reply, path: string) => {
      throw denied(`Cannot create folder ${path}: your home has exactly /OUT and /IN, and folders in /IN are made by the platform`);
    });
    on('RMDIR', p, (_rq: Reply, path: string) => {
      throw denied(`Cannot remove folder ${path}: the folders of your home are kept by the platform`);
    });
    on('SYMLINK', p, (_rq: Reply, linkPath: string) => {
      throw denied(`Cannot create link ${linkPath}: links are not allowed here`);
    });
    on('READLINK', p, (_rq: Reply, path: string) => {
      throw denied(`Cannot read link ${path}: links are not allowed here`);
    });
    on('EXTENDED', (name: string) => `extension ${name}`, this.onExtended, (name: string, data: Buffer | undefined) =>
      name === 'fsync@openssh.com' || name === 'fstatvfs@openssh.com' ? readStrings(data, 1)?.[0] : undefined,
    );
  }

  private fail(rq: Reply, op: string, clientPath: string, err: unknown): void {
    const { code, message, unexpected } = statusOf(err, clientPath);
    if (unexpected) this.log.error({ err, op, path: clientPath }, 'request failed');
    else this.log.debug({ op, path: clientPath, message }, 'request refused');
    rq.status(code, message);
  }

  // ---------------------------------------------------------------------------------------------
  // Backpressure: hold incoming SFTP data while too much is in flight (ssh2 then stops opening its
  // window), and queue reads while responses wait for the client's window.
  private installGate(): void {
    const s = internals(this.sftp);
    const origPush = s.push;
    s.push = (data: Buffer | null) => {
      if (data === null) return origPush.call(s, data);
      if (this.notReady || this.holding || this.overloaded()) {
        this.holding = true;
        this.held.push(data);
        if (!this.notReady) this.armStalled();
        return false;
      }
      return origPush.call(s, data);
    };
    this.deliver = (d: Buffer) => origPush.call(s, d);
  }

  private overloaded(): boolean {
    return (
      this.writeBytesInFlight > WRITE_BUDGET ||
      this.readQueue.length > 1024 ||
      outgoingBacklog(this.sftp) > BACKLOG_LIMIT
    );
  }

  private armStalled(): void {
    if (this.stalledTimer || this.ended) return;
    this.stalledTimer = setTimeout(() => {
      this.stalledTimer = undefined;
      if (this.holding || outgoingBacklog(this.sftp) > BACKLOG_LIMIT) {
        this.log.warn({ op: 'sftp', backlog: outgoingBacklog(this.sftp) }, 'client stopped reading its responses; ending the session');
        this.o.onStalled();
      }
    }, this.o.stalledMs);
    this.stalledTimer.unref();
  }

  /** Runs queued reads and releases held input when there is room again. */
  private pump(): void {
    if (this.ended) return;
    while (this.readQueue.length && this.readBytesInFlight < READ_BUDGET && outgoingBacklog(this.sftp) <= BACKLOG_LIMIT) {
      this.readQueue.shift()!();
    }
    if (this.holding && !this.notReady && !this.overloaded()) {
      while (this.held.length && !this.overloaded()) {
        this.deliver(this.held.shift()!);
        if (this.ended) return;
      }
      if (this.held.length === 0) {
        this.holding = false;
        resumeIncoming(this.sftp);
      }
    }
    if (this.readQueue.length && outgoingBacklog(this.sftp) > BACKLOG_LIMIT) this.armStalled();
    if (!this.holding && outgoingBacklog(this.sftp) <= BACKLOG_LIMIT && this.stalledTimer) {
      clearTimeout(this.stalledTimer);
      this.stalledTimer = undefined;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Handles
  private checkHandleRoom(): void {
    if (this.handles.size >= this.o.maxHandles) {
      throw failure(`Too many open handles (${this.o.maxHandles}) in this session; close some before opening more`);
    }
  }

  private newHandle(h: Handle): Buffer {
    this.checkHandleRoom();
    const id = this.nextHandle++;
    this.handles.set(id, h);
    const buf = Buffer.allocUnsafe(4);
    buf.writeUInt32BE(id, 0);
    return buf;
  }

  private handleOf(handle: Buffer): Handle {
    const h = handle.length === 4 ? this.handles.get(handle.readUInt32BE(0)) : undefined;
    if (!h) throw failure(`Invalid handle (not issued in this session, or already closed)`);
    return h;
  }

  private fileHandle(handle: Buffer): FileHandle {
    const h = this.handleOf(handle);
    if (h.kind !== 'file') throw failure(`${h.r.path} is a folder handle; this request needs a file handle`);
    return h;
  }

  private handlePath(handle: Buffer): string {
    const h = handle.length === 4 ? this.handles.get(handle.readUInt32BE(0)) : undefined;
    return h ? h.r.path : '(handle)';
  }

  private track(h: FileHandle, p: Promise<unknown>): void {
    h.pending.add(p);
    const done = () => h.pending.delete(p);
    p.then(done, done);
  }

  // ---------------------------------------------------------------------------------------------
  // Files
  private async onOpen(rq: Reply, path: string, flags: number, _attrs: InputAttributes): Promise<void> {
    const r = this.o.home.resolve(path);
    const writing = (flags & (FLAG.WRITE | FLAG.APPEND | FLAG.CREAT | FLAG.TRUNC)) !== 0;
    this.refuseWhileDraining(path);
    if (writing) {
      if (r.place.kind !== 'out-file') {
        throw denied(`Cannot write ${r.path}: files are uploaded to /OUT/<name>; /IN and the folders are read-only`);
      }
      this.checkHandleRoom();
      await this.o.home.checkParents(r);
      const upload = await Upload.begin({
        owner: this.o.owner,
        outDir: this.o.home.outDir,
        name: r.place.name,
        clientPath: r.path,
        mode: {
          // READ|WRITE ("r+", "w+"): the handle may read back what this upload wrote.
          read: (flags & FLAG.READ) !== 0,
          append: (flags & FLAG.APPEND) !== 0,
          truncate: (flags & FLAG.TRUNC) !== 0,
          exclusive: (flags & FLAG.EXCL) !== 0 && (flags & FLAG.CREAT) !== 0,
          create: (flags & FLAG.CREAT) !== 0,
        },
        maxFileBytes: this.o.maxFileBytes,
        fsync: this.o.fsync,
      });
      if (this.ended) return upload.abandon();
      let handle: Buffer;
      try {
        handle = this.newHandle({ kind: 'file', r, fd: upload.fd, readable: (flags & FLAG.READ) !== 0, upload, pending: new Set(), replies: new ReplyOrder() });
      } catch (err) {
        await upload.abandon();
        throw err;
      }
      this.uploadsByName.set(r.place.name, upload);
      this.log.debug({ op: 'upload-open', path: r.path }, 'upload started');
      return rq.handle(handle);
    }
    // Reading: only files under /IN.
    if (r.place.kind === 'out-file') throw denied(`Cannot read ${r.path}: files in /OUT are upload-only`);
    if (r.place.kind !== 'in' || r.place.rel.length === 0) {
      throw r.place.kind === 'nowhere' ? noSuchFile(r.path) : failure(`${r.path} is a folder, not a file`);
    }
    const st = await this.o.home.lstatNoLink(r);
    if (!st.isFile()) throw failure(`${r.path} is a folder, not a file`);
    this.checkHandleRoom();
    const fd = await openP(r.abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    if (this.ended) return closeP(fd);
    try {
      rq.handle(this.newHandle({ kind: 'file', r, fd, readable: true, pending: new Set(), replies: new ReplyOrder() }));
    } catch (err) {
      await closeP(fd).catch(() => undefined);
      throw err;
    }
  }

  private onRead(rq: Reply, handle: Buffer, offset: number, len: number): void {
    const h = this.fileHandle(handle);
    if (!h.readable) throw denied(`${h.r.path} was opened for writing; it cannot be read through this handle`);
    const n = Math.min(len, MAX_READ_WRITE);
    const run = () => {
      if (this.ended) return;
      this.readBytesInFlight += n;
      const packet = Buffer.allocUnsafe(DATA_HEADER + n);
      // The read's bytes count against the budget until its reply goes (it may wait for its turn).
      const p = readAt(h.fd, packet, DATA_HEADER, n, offset).then(
        (got) =>
          rq.send(() => {
            this.readBytesInFlight -= n;
            if (this.ended) return;
            if (got === 0) this.sftp.status(rq.id, STATUS.EOF, 'End of file');
            else sendPacket(this.sftp, finishData(packet, rq.id, got));
            this.pump();
          }),
        (err: unknown) => {
          this.readBytesInFlight -= n;
          this.fail(rq, 'READ', h.r.path, err);
          this.pump();
        },
      );
      this.track(h, p);
    };
    if (this.readQueue.length || this.readBytesInFlight >= READ_BUDGET || outgoingBacklog(this.sftp) > BACKLOG_LIMIT) {
      // Queued; the handle's close waits for it.
      let release!: () => void;
      this.track(h, new Promise<void>((resolve) => (release = resolve)));
      this.readQueue.push(() => {
        run();
        release();
      });
      if (outgoingBacklog(this.sftp) > BACKLOG_LIMIT) this.armStalled();
      return;
    }
    run();
  }

  private onWrite(rq: Reply, handle: Buffer, offset: number, data: Buffer): void {
    const h = this.fileHandle(handle);
    if (!h.upload) throw denied(`${h.r.path} was opened for reading; it cannot be written through this handle`);
    const len = data.length;
    this.writeBytesInFlight += len;
    const p = h.upload.write(offset, data).then(
      () => {
        this.writeBytesInFlight -= len;
        rq.status(STATUS.OK);
        this.pump();
      },
      (err: unknown) => {
        this.writeBytesInFlight -= len;
        this.fail(rq, 'WRITE', h.r.path, err);
        this.pump();
      },
    );
    this.track(h, p);
  }

  private async onClose(rq: Reply, handle: Buffer): Promise<void> {
    const h = this.handleOf(handle);
    this.handles.delete(handle.readUInt32BE(0));
    if (h.kind === 'dir') return rq.status(STATUS.OK);
    while (h.pending.size) await Promise.allSettled([...h.pending]);
    if (!h.upload) {
      await closeP(h.fd);
      return rq.status(STATUS.OK);
    }
    const upload = h.upload;
    try {
      const closed = await upload.finish();
      this.remember(upload.name, attrsOf(closed.stats));
      uploadsTotal.inc({ system: this.o.owner.username });
      uploadBytesTotal.inc({ system: this.o.owner.username }, closed.size);
      this.log.info(
        { op: 'upload', system: this.o.owner.username, file: upload.name, size: closed.size, sha256: closed.sha256 },
        `received /OUT/${upload.name} (${closed.size} bytes)`,
      );
    } finally {
      if (this.uploadsByName.get(upload.name) === upload) this.uploadsByName.delete(upload.name);
    }
    rq.status(STATUS.OK);
  }

  private remember(name: string, attrs: SftpAttrs): void {
    const now = Date.now();
    for (const [k, v] of this.recent) if (now - v.at > RECENT_UPLOAD_MS) this.recent.delete(k);
    this.recent.set(name, { attrs, at: now });
  }

  private recentAttrs(name: string): SftpAttrs | undefined {
    const e = this.recent.get(name);
    return e && Date.now() - e.at <= RECENT_UPLOAD_MS ? e.attrs : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Attributes
  private async statPath(r: Resolved): Promise<SftpAttrs> {
    if (r.place.kind === 'out-file') {
      const upload = this.uploadsByName.get(r.place.name);
      if (upload && !upload.isDone) return attrsOf(await upload.stat());
      try {
        const st = await this.o.home.lstatNoLink(r);
        return attrsOf(st);
      } catch (err) {
        const recent = this.recentAttrs(r.place.name);
        if (recent && err instanceof SftpError && err.status === 'NO_SUCH_FILE') return recent;
        throw err;
      }
    }
    if (r.place.kind === 'root') return attrsOf(await lstat(this.o.home.root));
    return attrsOf(await this.o.home.lstatNoLink(r));
  }

  private async onStat(rq: Reply, path: string): Promise<void> {
    const attrs = await this.statPath(this.o.home.resolve(path));
    rq.attrs(attrs);
  }

  private async onFstat(rq: Reply, handle: Buffer): Promise<void> {
    const h = this.handleOf(handle);
    const st = h.kind === 'file' ? (h.upload ? await h.upload.stat() : await fstatP(h.fd)) : await this.o.home.lstatNoLink(h.r);
    rq.attrs(attrsOf(st));
  }

  private async onSetstat(rq: Reply, path: string, attrs: InputAttributes): Promise<void> {
    const r = this.o.home.resolve(path);
    const wants = changes(attrs);
    if (r.place.kind === 'out-file') {
      const name = r.place.name;
      const upload = this.uploadsByName.get(name);
      if (upload && !upload.isDone) {
        await upload.setAttrs(wants);
        return rq.status(STATUS.OK);
      }
      let st: Stats;
      try {
        st = await this.o.home.lstatNoLink(r);
      } catch (err) {
        const recent = this.recentAttrs(name);
        if (!recent || !(err instanceof SftpError) || err.status !== 'NO_SUCH_FILE') throw err;
        // Routing already took the file this session uploaded: answer as if the change applied.
        this.remember(name, { ...recent, ...definedOnly(wants) });
        return rq.status(STATUS.OK);
      }
      if (wants.size !== undefined && wants.size !== st.size) {
        throw denied(`Cannot change the size of ${r.path}: files in /OUT are complete once uploaded; upload it again instead`);
      }
      if (wants.atime !== undefined || wants.mtime !== undefined) {
        await utimes(r.abs, wants.atime ?? st.atimeMs / 1000, wants.mtime ?? st.mtimeMs / 1000);
      }
      return rq.status(STATUS.OK);
    }
    await this.statPath(r); // exists, and is no link
    if (wants.size !== undefined || wants.atime !== undefined || wants.mtime !== undefined) {
      throw denied(`Cannot change ${r.path}: only files in /OUT can have their times or size set`);
    }
    rq.status(STATUS.OK); // permissions and ownership: accepted and ignored
  }

  private async onFsetstat(rq: Reply, handle: Buffer, attrs: InputAttributes): Promise<void> {
    const h = this.handleOf(handle);
    const wants = changes(attrs);
    if (h.kind === 'file' && h.upload) {
      while (h.pending.size) await Promise.allSettled([...h.pending]);
      await h.upload.setAttrs(wants);
      return rq.status(STATUS.OK);
    }
    if (wants.size !== undefined || wants.atime !== undefined || wants.mtime !== undefined) {
      throw denied(`Cannot change ${h.r.path}: only files being uploaded to /OUT can have their times or size set`);
    }
    rq.status(STATUS.OK);
  }

  // ---------------------------------------------------------------------------------------------
  // Folders
  private async onOpendir(rq: Reply, path: string): Promise<void> {
    this.refuseWhileDraining(path);
    const r = this.o.home.resolve(path);
    if (r.place.kind === 'out-file' || r.place.kind === 'nowhere') {
      const st = r.place.kind === 'out-file' ? await this.statPath(r) : undefined;
      throw st ? failure(`${r.path} is a file, not a folder`) : noSuchFile(r.path);
    }
    if (r.place.kind !== 'root') {
      const st = await this.o.home.lstatNoLink(r);
      if (!st.isDirectory()) throw failure(`${r.path} is a file, not a folder`);
    }
    rq.handle(this.newHandle({ kind: 'dir', r, names: undefined, pos: 0, replies: new ReplyOrder() }));
  }

  private async onReaddir(rq: Reply, handle: Buffer): Promise<void> {
    const h = this.handleOf(handle);
    if (h.kind !== 'dir') throw failure(`${h.r.path} is a file handle; READDIR needs a folder handle`);
    if (!h.names) {
      h.names = h.r.place.kind === 'root' ? ['OUT', 'IN'] : (await readdir(h.r.abs)).filter((n) => !isUploadTempName(n)).sort();
    }
    const out: Array<{ filename: string; longname: string; attrs: SftpAttrs }> = [];
    while (out.length < READDIR_BATCH && h.pos < h.names.length) {
      const batch = h.names.slice(h.pos, h.pos + READDIR_BATCH - out.length);
      h.pos += batch.length;
      const stats = await Promise.all(batch.map((n) => lstat(`${h.r.abs}/${n}`).catch(() => undefined)));
      batch.forEach((name, i) => {
        const st = stats[i];
        if (!st) return; // gone since the listing began
        if (!st.isFile() && !st.isDirectory()) return; // links and specials are not shown
        if (h.r.place.kind === 'out' && !st.isFile()) return;
        const attrs = attrsOf(st);
        out.push({ filename: name, longname: longname(name, attrs, this.o.owner.username, st.nlink), attrs });
      });
    }
    if (out.length === 0) return rq.status(STATUS.EOF, 'End of folder');
    rq.name(out);
  }

  private async onRemove(rq: Reply, path: string): Promise<void> {
    const r = this.o.home.resolve(path);
    if (r.place.kind !== 'out-file' && !(r.place.kind === 'in' && r.place.rel.length > 0)) {
      throw r.place.kind === 'nowhere' ? noSuchFile(r.path) : denied(`Cannot remove ${r.path}: only files in /OUT and /IN can be removed`);
    }
    const st = await this.o.home.lstatNoLink(r);
    if (st.isDirectory()) throw denied(`Cannot remove ${r.path}: it is a folder, and folders are kept by the platform`);
    await unlink(r.abs);
    if (r.place.kind === 'out-file') this.recent.delete(r.place.name);
    this.log.info({ op: 'remove', system: this.o.owner.username, path: r.path }, `removed ${r.path}`);
    rq.status(STATUS.OK);
  }

  private async onRename(rq: Reply, fromPath: string, toPath: string, replace: boolean): Promise<void> {
    const from = this.o.home.resolve(fromPath);
    const to = this.o.home.resolve(toPath);
    if (from.place.kind !== 'out-file' || to.place.kind !== 'out-file') {
      throw denied(`Cannot rename ${from.path} to ${to.path}: renaming works only between files in /OUT`);
    }
    const fromName = from.place.name;
    const toName = to.place.name;
    const open = this.uploadsByName.get(fromName);
    if (open && !open.isDone) throw failure(`${from.path} is still being uploaded; close it before renaming`);
    const st = await this.o.home.lstatNoLink(from);
    if (!st.isFile()) throw failure(`${from.path} is not a file`);
    if (fromName === toName) return rq.status(STATUS.OK);
    const target = await lstat(to.abs).catch(() => undefined);
    if (target && !target.isFile()) throw failure(`Cannot rename onto ${to.path}: it is not a file`);
    if (replace) {
      await rename(from.abs, to.abs);
    } else {
      // SFTP v3 RENAME does not replace (as OpenSSH's server): link, then unlink, fails on an existing target.
      await link(from.abs, to.abs).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? failure(`${to.path} already exists; remove it first (or use posix-rename)`) : err;
      });
      await unlink(from.abs);
    }
    const recent = this.recentAttrs(fromName);
    if (recent) this.remember(toName, recent);
    this.log.info({ op: 'rename', system: this.o.owner.username, from: from.path, to: to.path }, `renamed ${from.path} to ${to.path}`);
    uploadEvents.emit('renamed', {
      systemId: this.o.owner.systemId,
      username: this.o.owner.username,
      from: fromName,
      to: toName,
      absPath: to.abs,
    });
    rq.status(STATUS.OK);
  }

  private onRealpath(rq: Reply, path: string): void {
    // `cd ..` must work: REALPATH collapses ".." lexically, never above "/". Other requests refuse "..".
    const parts: string[] = [];
    for (const seg of String(path).split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') parts.pop();
      else parts.push(seg);
    }
    const r = this.o.home.resolve(`/${parts.join('/')}`);
    rq.name([{ filename: r.path, longname: r.path, attrs: {} as SftpAttrs }]);
  }

  // ---------------------------------------------------------------------------------------------
  // Extensions
  private async onExtended(rq: Reply, name: string, data: Buffer | undefined): Promise<void> {
    switch (name) {
      case 'limits@openssh.com': {
        const body = Buffer.concat([uint64(MAX_PACKET), uint64(MAX_READ_WRITE), uint64(MAX_READ_WRITE), uint64(this.o.maxHandles)]);
        return rq.packet(extendedReply(rq.id, body));
      }
      case 'statvfs@openssh.com':
      case 'fstatvfs@openssh.com': {
        const [arg] = readStrings(data, 1) ?? [];
        if (!arg) throw new SftpError('BAD_MESSAGE', `Malformed ${name} request`);
        if (name === 'statvfs@openssh.com') await this.statPath(this.o.home.resolve(arg.toString('utf8')));
        else this.handleOf(arg);
        const fs = await statfs(this.o.home.root);
        const body = Buffer.concat([
          uint64(fs.bsize), uint64(fs.bsize), uint64(fs.blocks), uint64(fs.bfree), uint64(fs.bavail),
          uint64(fs.files), uint64(fs.ffree), uint64(fs.ffree), uint64(0), uint64(0), uint64(255),
        ]);
        return rq.packet(extendedReply(rq.id, body));
      }
      case 'fsync@openssh.com': {
        const [handle] = readStrings(data, 1) ?? [];
        if (!handle) throw new SftpError('BAD_MESSAGE', 'Malformed fsync@openssh.com request');
        const h = this.fileHandle(handle);
        if (h.upload) await h.upload.fsync();
        return rq.status(STATUS.OK);
      }
      case 'posix-rename@openssh.com': {
        const args = readStrings(data, 2);
        if (!args) throw new SftpError('BAD_MESSAGE', 'Malformed posix-rename@openssh.com request');
        return this.onRename(rq, args[0]!.toString('utf8'), args[1]!.toString('utf8'), true);
      }
      case 'hardlink@openssh.com':
        throw denied('Cannot create links: hard links are not allowed here');
      default:
        throw new SftpError('OP_UNSUPPORTED', `The extension ${name} is not supported by this server`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  /** Resolves when no request is in flight any more (after the client's EOF). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.handles.values()].flatMap((h) => (h.kind === 'file' ? [...h.pending] : []));
      const all = [...pending, ...this.inflight];
      if (all.length === 0) return;
      await Promise.allSettled(all);
    }
  }

  /** The session is over (client left, system disabled, server stopping): unfinished uploads leave nothing. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.stalledTimer) clearTimeout(this.stalledTimer);
    this.readQueue.length = 0;
    this.held.length = 0;
    const handles = [...this.handles.values()];
    this.handles.clear();
    let abandoned = 0;
    for (const h of handles) {
      if (h.kind !== 'file') continue;
      if (h.upload) {
        if (!h.upload.isDone) abandoned++;
        await h.upload.abandon().catch(() => undefined);
      } else {
        await Promise.allSettled([...h.pending]);
        await closeP(h.fd).catch(() => undefined);
      }
    }
    if (abandoned) this.log.info({ op: 'upload', system: this.o.owner.username, abandoned }, `session ended mid-upload; removed ${abandoned} unfinished upload(s)`);
  }

  /**
   * Graceful shutdown: from now on OPEN and OPENDIR are refused (the client sees why); uploads and
   * reads already open go on. The server ends the session once it is `idle`.
   */
  drain(): void {
    this.draining = true;
  }

  /** No handle open and no upload still being closed (renamed into place). */
  get idle(): boolean {
    return this.handles.size === 0 && this.uploadsByName.size === 0;
  }

  private refuseWhileDraining(path: string): void {
    if (this.draining) {
      throw failure(`Cannot open ${path}: this server is shutting down and takes no new transfers; connect again (another node, or this one once it is back) and repeat it`);
    }
  }

  get openHandles(): number {
    return this.handles.size;
  }
}

function changes(a: InputAttributes): { size?: number; atime?: number; mtime?: number } {
  const out: { size?: number; atime?: number; mtime?: number } = {};
  if (typeof a.size === 'number') out.size = a.size;
  if (typeof a.atime === 'number') out.atime = a.atime;
  else if (a.atime instanceof Date) out.atime = a.atime.getTime() / 1000;
  if (typeof a.mtime === 'number') out.mtime = a.mtime;
  else if (a.mtime instanceof Date) out.mtime = a.mtime.getTime() / 1000;
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
