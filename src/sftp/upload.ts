import { constants as fsc, close, closeSync, copyFile, fdatasync, fstat, fstatSync, fsync, ftruncate, futimes, lstatSync, open, openSync, read, renameSync, unlink, type Stats } from 'node:fs';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { uploadBytesTotal, uploadsTotal } from '../metrics/metrics.js';
import { attrsOf } from './file-attrs.js';
import type { RecentUploads } from './recent-uploads.js';
import { overQuota, type SystemQuota } from './upload-quota.js';
import { denied, failure, noSuchFile, SftpError, statusOf } from './sftp-error.js';
import { syncDir } from '../storage/homes.js';
import { uploadTempPrefix } from '../storage/temp-names.js';
import { uploadEvents, type UploadClosed } from './upload-events.js';
import { CoalescedWrites } from './coalesced-writes.js';

const openP = promisify(open);
const closeP = promisify(close);
const fstatP = promisify(fstat);
const fsyncP = promisify(fsync);
const ftruncateP = promisify(ftruncate);
const futimesP = promisify(futimes);
const unlinkP = promisify(unlink);
const copyFileP = promisify(copyFile);
const fdatasyncP = promisify(fdatasync);

/** Flush to disk in the background every this many bytes, so the fsync at close has little left. */
const BACKGROUND_SYNC_BYTES = 64 * 1024 * 1024;
export interface UploadOwner {
  systemId: number;
  username: string;
}

/**
 * When the bytes of an upload reach the disk before its rename: 'always' (default; the real name is
 * never left pointing at lost bytes after a power cut) or 'on-request' (only when the client sends
 * fsync@openssh.com, as OpenSSH's server does — faster for many small files).
 */
export type UploadFsync = 'always' | 'on-request';

export interface UploadMode {
  read: boolean;
  append: boolean;
  truncate: boolean;
  exclusive: boolean;
  create: boolean;
}

/**
 * One upload into /OUT (SPEC §3, the invariant the router relies on): bytes go to a hidden temp file
 * `.<name>.fu-upload-<hex>` in the same folder and the file gets its real name only in `close` —
 * the one place where an upload ends. Writing to an existing name without TRUNC (resume, append)
 * first copies it to the temp file, so a complete file's inode is never changed.
 */
export class Upload {
  private hash: Hash | undefined;
  private nextOffset = 0;
  private end = 0;
  private failed: SftpError | undefined;
  private readonly writes: CoalescedWrites;
  private done = false;
  private unsynced = 0;
  private syncName = false;
  private backgroundSync: Promise<void> | undefined;
  /** Bytes this upload counts against its system's quota (its temp file's). */
  private counted = 0;

  readonly owner: UploadOwner;
  readonly name: string;

  /** The upload's size so far (its end: the furthest byte written, or the size SETSTAT gave it). */
  get size(): number {
    return this.end;
  }
  readonly clientPath: string;
  readonly mode: UploadMode;
  private readonly maxFileBytes: number;
  private readonly fsyncMode: UploadFsync;
  private readonly recent: RecentUploads;
  private readonly log: Logger;
  private readonly quota: SystemQuota | undefined;

  private constructor(
    opts: Parameters<typeof Upload.begin>[0],
    readonly finalPath: string,
    readonly tempPath: string,
    readonly fd: number,
    startSize: number,
    hashFromStart: boolean,
    /** The file this upload replaces at its close, as it was when the upload opened. */
    private readonly replaces: boolean,
  ) {
    this.owner = opts.owner;
    this.name = opts.name;
    this.clientPath = opts.clientPath;
    this.mode = opts.mode;
    this.maxFileBytes = opts.maxFileBytes;
    this.fsyncMode = opts.fsync ?? 'always';
    this.recent = opts.recent;
    this.log = opts.log;
    this.quota = opts.quota;
    this.end = startSize;
    // A copy of an existing file (resume, append) holds its bytes again until the close replaces it.
    if (startSize > 0) this.count(startSize, false);
    if (hashFromStart) this.hash = createHash('sha256');
    this.writes = new CoalescedWrites(fd, (err) => {
      if (this.failed) return;
      // The client hears it in its terms (statusOf: "out of disk space", …); the OS error goes to the log.
      const { message, unexpected } = statusOf(err, this.clientPath);
      if (unexpected) this.log.warn({ op: 'upload', err, path: this.clientPath }, 'writing an upload failed');
      this.failed = failure(message);
    });
  }

  static async begin(opts: {
    owner: UploadOwner;
    outDir: string;
    name: string;
    clientPath: string;
    mode: UploadMode;
    maxFileBytes: number;
    fsync?: UploadFsync;
    /** Where a closed upload is remembered for the STAT grace. */
    recent: RecentUploads;
    /** The system's quota: what the upload adds counts against it, and is refused past it. */
    quota?: SystemQuota;
    log: Logger;
  }): Promise<Upload> {
    const { outDir, name, clientPath, mode } = opts;
    const finalPath = join(outDir, name);
    // Metadata calls of an upload's open and close run synchronously (as OpenSSH's sftp-server
    // does): each takes microseconds, while a round trip through libuv's thread pool costs more
    // CPU than the call itself — most of the server's CPU per small file.
    const existing = lstatSync(finalPath, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink()) throw denied(`${clientPath} is a symbolic link; links are not followed here`);
    if (existing && !existing.isFile()) throw failure(`${clientPath} is not a regular file`);
    if (existing && mode.exclusive) throw failure(`${clientPath} already exists (opened with EXCL); remove it first or choose another name`);
    if (!existing && !mode.create) throw noSuchFile(clientPath);

    const tempPath = join(outDir, `${uploadTempPrefix(name)}${randomBytes(8).toString('hex')}`);
    const access = mode.read ? fsc.O_RDWR : fsc.O_WRONLY;
    let fd: number;
    let startSize = 0;
    if (existing && !mode.truncate) {
      // Copy-on-write: resume/append works on a copy; the complete file stays as it is until the rename.
      await copyFileP(finalPath, tempPath, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? noSuchFile(clientPath) : err;
      });
      try {
        fd = await openP(tempPath, access | fsc.O_NOFOLLOW);
        startSize = (await fstatP(fd)).size;
      } catch (err) {
        await unlinkP(tempPath).catch(() => undefined);
        throw err;
      }
    } else {
      fd = openSync(tempPath, access | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o640);
    }
    // The hash covers the file only when it starts empty and the bytes arrive in order.
    return new Upload(opts, finalPath, tempPath, fd, startSize, startSize === 0, existing !== undefined);
  }

  /**
   * Writes at `offset` (at the end for APPEND); keeps the SHA-256 while writes arrive in order.
   * Undefined when the write is accepted at once (coalesced-writes.ts), else a promise to answer after.
   */
  write(offset: number, data: Buffer): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed);
    if (this.done) return Promise.reject(failure(`The upload of ${this.clientPath} is already closed`));
    const position = this.mode.append ? this.end : offset;
    const len = data.length;
    if (position + len > this.maxFileBytes) {
      this.failed = failure(
        `${this.clientPath} is larger than the largest file this server accepts (MAX_FILE_BYTES = ${this.maxFileBytes} bytes); the upload is refused and nothing is stored`,
      );
      return Promise.reject(this.failed);
    }
    if (position + len > this.end && !this.count(position + len - this.end, true)) {
      this.failed = overQuota(this.owner.username, this.clientPath, this.quota!.state()!);
      return Promise.reject(this.failed);
    }
    if (this.hash) {
      if (position === this.nextOffset) {
        this.hash.update(data);
        this.nextOffset += len;
      } else {
        this.hash = undefined; // out of order: the router computes it when it needs it
      }
    }
    if (position + len > this.end) this.end = position + len;
    const accepted = this.writes.write(position, data);
    this.unsynced += len;
    if (this.fsyncMode === 'always' && this.unsynced >= BACKGROUND_SYNC_BYTES && !this.backgroundSync) {
      // Overlaps writeback with the transfer (and keeps dirty pages few); errors show at the final fsync.
      this.unsynced = 0;
      this.backgroundSync = this.writes.written
        .then(() => fdatasyncP(this.fd))
        .catch(() => undefined)
        .finally(() => (this.backgroundSync = undefined));
    }
    return accepted;
  }

  /** Once every write accepted so far is in the file (a read-back, FSTAT) — or has failed. */
  flushed(): Promise<void> {
    return this.writes.flush().catch(() => undefined);
  }

  async stat(): Promise<Stats> {
    await this.flushed();
    return fstatP(this.fd);
  }

  /** SETSTAT/FSETSTAT on the upload: size and times apply to the temp file. */
  async setAttrs(attrs: { size?: number; atime?: number; mtime?: number }): Promise<void> {
    if (attrs.size !== undefined) {
      await this.idle();
      // Shortening only: growing would make a sparse file of any size out of nothing, which a
      // reopen without TRUNC then copies byte for byte (and the router would hash).
      if (attrs.size > this.end) {
        throw failure(
          `Cannot set the size of ${this.clientPath} to ${attrs.size} bytes: an upload can be shortened, not grown past the ${this.end} bytes it holds; write the bytes instead`,
        );
      }
      await ftruncateP(this.fd, attrs.size);
      this.count(attrs.size - this.end, false);
      if (attrs.size !== this.nextOffset) this.hash = undefined;
      this.end = attrs.size;
    }
    if (attrs.atime !== undefined || attrs.mtime !== undefined) {
      const st = await fstatP(this.fd);
      await futimesP(this.fd, attrs.atime ?? st.atimeMs / 1000, attrs.mtime ?? st.mtimeMs / 1000);
    }
  }

  /** fsync@openssh.com: the bytes now, and the name too when the upload closes. */
  async fsync(): Promise<void> {
    this.syncName = true;
    await this.idle();
    await fsyncP(this.fd);
  }

  /**
   * Where every upload ends (SFTPGo's BaseTransfer.Close): waits for its writes, makes the bytes
   * durable, gives the file its real name (atomically replacing an older file of that name), tells
   * the router, counts it, logs it and remembers it for the STAT grace.
   */
  async close(): Promise<void> {
    await this.idle();
    if (this.done) throw failure(`The upload of ${this.clientPath} is already closed`);
    this.done = true;
    if (this.failed) {
      await this.discard();
      throw failure(`The upload of ${this.clientPath} failed (${this.failed.message}); nothing was stored — upload it again`);
    }
    let stats: Stats;
    try {
      stats = fstatSync(this.fd);
      if (this.fsyncMode === 'always' || this.syncName) await fsyncP(this.fd);
      closeSync(this.fd);
    } catch (err) {
      await this.discard();
      throw err;
    }
    try {
      // The file this one replaces stops holding its bytes.
      const replaced = this.replaces ? lstatSync(this.finalPath, { throwIfNoEntry: false }) : undefined;
      renameSync(this.tempPath, this.finalPath);
      if (replaced?.isFile()) this.quota?.shrink(replaced.blocks * 512);
    } catch (err) {
      await unlinkP(this.tempPath).catch(() => undefined);
      throw err;
    }
    // The bytes are always on disk before the name appears (the invariant). The name itself is made
    // durable at once only when the client asked (fsync@openssh.com, `put -f`), as OpenSSH does:
    // a folder fsync per file halves small-file throughput; otherwise the file system's next
    // journal commit (ext4: within 5 s) carries it.
    // Best effort: some file systems cannot fsync a folder.
    if (this.syncName) await syncDir(dirname(this.finalPath)).catch(() => undefined);
    const sha256 = this.hash && this.nextOffset === stats.size ? this.hash.digest('hex') : undefined;
    const closed: UploadClosed = {
      systemId: this.owner.systemId,
      username: this.owner.username,
      name: this.name,
      absPath: this.finalPath,
      size: stats.size,
      ...(sha256 ? { sha256 } : {}),
      at: performance.now(),
    };
    uploadEvents.emit('closed', closed);
    this.recent.remember(this.name, attrsOf(stats));
    uploadsTotal.inc({ system: this.owner.username });
    uploadBytesTotal.inc({ system: this.owner.username }, closed.size);
    this.log.info(
      { op: 'upload', system: this.owner.username, file: this.name, size: closed.size, sha256: closed.sha256 },
      `received /OUT/${this.name} (${closed.size} bytes)`,
    );
  }

  /** A session that ends mid-upload: the temp file goes, nothing is published. */
  async abandon(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.idle();
    await this.discard();
  }

  get isDone(): boolean {
    return this.done;
  }

  private async discard(): Promise<void> {
    await closeP(this.fd).catch(() => undefined);
    await unlinkP(this.tempPath).catch(() => undefined);
    this.count(-this.counted, false);
  }

  /** Counts `bytes` more (or fewer) against the quota; false when the quota refuses them (`enforce`). */
  private count(bytes: number, enforce: boolean): boolean {
    if (!this.quota) return true;
    if (bytes > 0 && !this.quota.grow(bytes, enforce)) return false;
    if (bytes < 0) this.quota.shrink(-bytes);
    this.counted += bytes;
    return true;
  }

  /** Every accepted write in the file (or failed: `failed` says so), and no background sync running. */
  private async idle(): Promise<void> {
    await this.flushed();
    while (this.backgroundSync) await this.backgroundSync;
  }
}

export function readAt(fd: number, into: Buffer, at: number, len: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, into, at, len, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}
