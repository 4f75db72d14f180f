import { constants as fsc, close, open } from 'node:fs';
import { promisify } from 'node:util';
import type { InputAttributes } from 'ssh2';
import { allow } from './policy.js';
import type { RequestContext } from './request-context.js';
import type { Place } from './sealed-home.js';
import type { Reply } from './reply.js';
import { denied, failure, STATUS } from './sftp-error.js';
import { DATA_HEADER, finishData, MAX_READ_WRITE, sendPacket } from './sftp-wire.js';
import { readAt, Upload } from './upload.js';

const openP = promisify(open);
const closeP = promisify(close);

type OutFile = Extract<Place, { kind: 'out-file' }>;

const FLAG = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

/** OPEN: for writing, an upload into /OUT; for reading, a file under /IN. */
export async function openFile(cx: RequestContext, rq: Reply, path: string, flags: number, _attrs: InputAttributes): Promise<void> {
  const r = cx.home.resolve(path);
  const writing = (flags & (FLAG.WRITE | FLAG.APPEND | FLAG.CREAT | FLAG.TRUNC)) !== 0;
  cx.refuseWhileDraining(path);
  if (writing) {
    allow('upload', r);
    const { name } = r.place as OutFile; // allow() let only a file in /OUT through
    cx.handles.checkRoom();
    await cx.home.checkParents(r);
    // Measures the system's /OUT and asks the database again only when the last measurement is
    // stale (upload-quota.ts); while the database cannot answer, uploads go on without a quota.
    await cx.quota?.current();
    const upload = await Upload.begin({
      owner: cx.owner,
      outDir: cx.home.outDir,
      name,
      clientPath: r.path,
      mode: {
        // READ|WRITE ("r+", "w+"): the handle may read back what this upload wrote.
        read: (flags & FLAG.READ) !== 0,
        append: (flags & FLAG.APPEND) !== 0,
        truncate: (flags & FLAG.TRUNC) !== 0,
        exclusive: (flags & FLAG.EXCL) !== 0 && (flags & FLAG.CREAT) !== 0,
        create: (flags & FLAG.CREAT) !== 0,
      },
      maxFileBytes: cx.maxFileBytes,
      fsync: cx.fsync,
      recent: cx.recent,
      log: cx.log,
      quota: cx.quota,
    });
    if (cx.ended()) return upload.abandon();
    let handle: Buffer;
    try {
      handle = cx.handles.add({ kind: 'file', r, fd: upload.fd, readable: (flags & FLAG.READ) !== 0, upload });
    } catch (err) {
      await upload.abandon();
      throw err;
    }
    cx.handles.uploads.set(name, upload);
    cx.log.debug({ op: 'upload-open', path: r.path }, 'upload started');
    return rq.handle(handle);
  }
  allow('download', r);
  const st = await cx.home.lstatNoLink(r);
  if (!st.isFile()) throw failure(`${r.path} is a folder, not a file`);
  cx.handles.checkRoom();
  const fd = await openP(r.abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  if (cx.ended()) return closeP(fd);
  try {
    const coverage = cx.fetches.opened(r, cx.owner.systemId, st.ino, st.size);
    rq.handle(cx.handles.add({ kind: 'file', r, fd, readable: true, coverage }));
  } catch (err) {
    await closeP(fd).catch(() => undefined);
    throw err;
  }
}

/** READ: straight into a DATA packet (no copy), when the read budget and the client's window allow. */
export function readFile(cx: RequestContext, rq: Reply, handle: Buffer, offset: number, len: number): void {
  const h = cx.handles.file(handle);
  if (!h.readable) throw denied(`${h.r.path} was opened for writing; it cannot be read through this handle`);
  checkOffset(offset, 'read', h.r.path);
  const n = Math.min(len, MAX_READ_WRITE);
  const read = cx.flow.read(n, (sent) => {
    const packet = Buffer.allocUnsafe(DATA_HEADER + n);
    // An upload read back (READ|WRITE) first writes out what it has gathered (coalesced-writes.ts).
    const bytes = h.upload ? h.upload.flushed().then(() => readAt(h.fd, packet, DATA_HEADER, n, offset)) : readAt(h.fd, packet, DATA_HEADER, n, offset);
    return bytes.then(
      (got) => {
        h.coverage?.add(offset, got);
        // The read's bytes count against the budget until its reply goes (it may wait for its turn).
        rq.send(() => {
          sent();
          if (cx.ended()) return;
          if (got === 0) cx.sftp.status(rq.id, STATUS.EOF, 'End of file');
          else sendPacket(cx.sftp, finishData(packet, rq.id, got));
        });
      },
      (err: unknown) => {
        sent();
        cx.fail(rq, 'READ', h.r.path, err);
      },
    );
  });
  cx.handles.track(h, read); // the handle's CLOSE waits for it, queued or running
}

/**
 * WRITE. `data` (and `handle`) may be views of a buffer ssh2 reuses for the next WRITE
 * (patches/README.md): everything here uses them before returning — the upload copies the bytes
 * into its run and hashes them at once.
 */
export function writeFile(cx: RequestContext, rq: Reply, handle: Buffer, offset: number, data: Buffer): void {
  const h = cx.handles.file(handle);
  if (!h.upload) throw denied(`${h.r.path} was opened for reading; it cannot be written through this handle`);
  checkOffset(offset + data.length, 'write', h.r.path);
  const accepted = h.upload.write(offset, data);
  if (!accepted) return rq.status(STATUS.OK); // copied into the upload's run (coalesced-writes.ts)
  const written = cx.flow.write(data.length, accepted).then(
    () => rq.status(STATUS.OK),
    (err: unknown) => cx.fail(rq, 'WRITE', h.r.path, err),
  );
  cx.handles.track(h, written);
}

/**
 * An offset is a uint64 on the wire; ssh2 hands it on as a number, exact only up to 2^53 − 1 (8 PiB,
 * far past any file here). Beyond that the file system call would throw a RangeError.
 */
function checkOffset(end: number, what: 'read' | 'write', path: string): void {
  if (!Number.isSafeInteger(end) || end < 0) {
    throw failure(`Cannot ${what} ${path} at that offset: it is beyond any file this server holds (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
  }
}

/** CLOSE: after the handle's reads and writes; an upload ends here (Upload.close). */
export async function closeHandle(cx: RequestContext, rq: Reply, handle: Buffer): Promise<void> {
  const h = cx.handles.take(handle);
  if (h.kind === 'dir') return rq.status(STATUS.OK);
  await cx.handles.idle(h);
  if (!h.upload) {
    await closeP(h.fd);
    cx.fetches.closed(h.coverage);
    return rq.status(STATUS.OK);
  }
  const upload = h.upload;
  try {
    await upload.close();
  } finally {
    if (cx.handles.uploads.get(upload.name) === upload) cx.handles.uploads.delete(upload.name);
  }
  rq.status(STATUS.OK);
}
