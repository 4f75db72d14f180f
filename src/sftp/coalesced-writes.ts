import { write, writeSync } from 'node:fs';

/** Consecutive writes are gathered in buffers of this size and written with one system call each. */
const RUN_BYTES = 1024 * 1024;
/** Bytes handed to the disk and not yet written, beyond which a write's reply waits for them. */
const MAX_QUEUED_BYTES = 2 * RUN_BYTES;
/**
 * A run that ends within the file's first SYNC_WRITE_BYTES is written at once on the event loop
 * (as OpenSSH's sftp-server writes): for a small file the round trip through libuv's thread pool
 * costs more CPU than the write itself. Larger runs go to the thread pool, so that a slow disk
 * never holds up the other sessions of the process. It is also the size of an upload's first
 * buffer, so a small file does not take a whole run's memory.
 */
const SYNC_WRITE_BYTES = 64 * 1024;

const DONE: Promise<void> = Promise.resolve();

/**
 * The writes of one upload, gathered. A client writes a file from start to end in 32 KiB packets;
 * one thread-pool write per packet was the largest share of an upload's CPU (issue 11 profiles).
 * Here consecutive writes are copied into a 1 MiB buffer (the packet's own buffer dies young, which
 * keeps the garbage collector's work small) that is written with one `pwrite`, one run after
 * another (never two at once, so overlapping writes land in the order they came); the written
 * buffers are used again. A write is accepted as soon as it is copied, unless 2 MiB already wait
 * for the disk — then it waits until those are written, and the session's flow control holds the
 * client. A failure to write is kept: `flush` rejects with it,
 * and so does every later `flush`.
 */
export class CoalescedWrites {
  private buffer: Buffer | undefined;
  private runStart = 0;
  private runBytes = 0;
  private readonly spare: Buffer[] = [];
  /** The runs handed to the disk, one after another; settles when the last is written. */
  private chain: Promise<void> = DONE;
  private queuedBytes = 0;

  constructor(
    private readonly fd: number,
    /** Told of the first failure to write (the upload then refuses further writes). */
    private readonly onFailure: (err: Error) => void,
  ) {}

  /** Copies `data` in; undefined when that is all (accepted), else a promise to wait for first. */
  write(position: number, data: Buffer): Promise<void> | undefined {
    if (this.runBytes > 0 && position !== this.runStart + this.runBytes) this.startWriting();
    for (let copied = 0; copied < data.length; ) {
      if (this.runBytes === 0) this.runStart = position + copied;
      const buffer = (this.buffer ??= this.take(this.runStart));
      const n = data.copy(buffer, this.runBytes, copied);
      copied += n;
      this.runBytes += n;
      if (this.runBytes === buffer.length) this.startWriting();
    }
    return this.queuedBytes > MAX_QUEUED_BYTES ? this.chain : undefined;
  }

  /** Writes what is gathered; settles when everything accepted so far is written (or has failed). */
  flush(): Promise<void> {
    this.startWriting();
    return this.chain;
  }

  /** Settles when the runs already handed to the disk are written (the gathering one stays). */
  get written(): Promise<void> {
    return this.chain;
  }

  /** A buffer for a run starting at `start`: small for a file's first bytes, else a whole run. */
  private take(start: number): Buffer {
    if (start < SYNC_WRITE_BYTES) return Buffer.allocUnsafeSlow(SYNC_WRITE_BYTES - start);
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(RUN_BYTES);
  }

  private startWriting(): void {
    const buffer = this.buffer;
    if (!buffer || this.runBytes === 0) return;
    const start = this.runStart;
    const bytes = this.runBytes;
    this.buffer = undefined;
    this.runBytes = 0;
    if (start + bytes <= SYNC_WRITE_BYTES && this.queuedBytes === 0) {
      try {
        for (let off = 0; off < bytes; ) off += writeSync(this.fd, buffer, off, bytes - off, start + off);
      } catch (err) {
        this.chain = Promise.reject(err as Error);
        this.chain.catch(this.onFailure);
      }
      return;
    }
    this.queuedBytes += bytes;
    const written = () => {
      this.queuedBytes -= bytes;
      if (buffer.length === RUN_BYTES && this.spare.length < 2) this.spare.push(buffer);
    };
    this.chain = this.chain.then(() => writeAll(this.fd, buffer, bytes, start)).finally(written);
    this.chain.catch(this.onFailure);
  }
}

function writeAll(fd: number, buffer: Buffer, bytes: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      write(fd, buffer, off, bytes - off, position + off, (err, n) => {
        if (err) return reject(err);
        if (off + n < bytes) return step(off + n);
        resolve();
      });
    };
    step(0);
  });
}
