import { fstat, type Stats } from 'node:fs';
import { lstat, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { InputAttributes } from 'ssh2';
import { attrsOf, type SftpAttrs } from './file-attrs.js';
import { allow } from './policy.js';
import type { RequestContext } from './request-context.js';
import type { Reply } from './reply.js';
import type { Resolved } from './sealed-home.js';
import { denied, SftpError, STATUS } from './sftp-error.js';

const fstatP = promisify(fstat);

/** STAT of a path: an upload still open answers from its temp file; a recent upload within its grace. */
export async function statPath(cx: RequestContext, r: Resolved): Promise<SftpAttrs> {
  if (r.place.kind === 'out-file') {
    const upload = cx.handles.openUpload(r.place.name);
    if (upload) return attrsOf(await upload.stat());
    try {
      return attrsOf(await cx.home.lstatNoLink(r));
    } catch (err) {
      const recent = cx.recent.attrs(r.place.name);
      if (recent && err instanceof SftpError && err.status === 'NO_SUCH_FILE') return recent;
      throw err;
    }
  }
  if (r.place.kind === 'root') return attrsOf(await lstat(cx.home.root));
  return attrsOf(await cx.home.lstatNoLink(r));
}

/** STAT and LSTAT (links are never followed, so they are the same). */
export async function statRequest(cx: RequestContext, rq: Reply, path: string): Promise<void> {
  rq.attrs(await statPath(cx, cx.home.resolve(path)));
}

export async function fstatRequest(cx: RequestContext, rq: Reply, handle: Buffer): Promise<void> {
  const h = cx.handles.get(handle);
  const st = h.kind === 'file' ? (h.upload ? await h.upload.stat() : await fstatP(h.fd)) : await cx.home.lstatNoLink(h.r);
  rq.attrs(attrsOf(st));
}

/**
 * SETSTAT: times and size of files in /OUT; permissions are accepted and ignored; a change of owner
 * or group is refused (SPEC §3) — the same owner and group sent back (some clients echo a STAT) is none.
 */
export async function setstatRequest(cx: RequestContext, rq: Reply, path: string, attrs: InputAttributes): Promise<void> {
  const r = cx.home.resolve(path);
  const wants = changes(attrs);
  if (r.place.kind === 'out-file') {
    const name = r.place.name;
    const upload = cx.handles.openUpload(name);
    if (upload) {
      if (wants.uid !== undefined || wants.gid !== undefined) refuseOwnerChange(wants, await upload.stat(), r);
      await upload.setAttrs(wants);
      return rq.status(STATUS.OK);
    }
    let st: Stats;
    try {
      st = await cx.home.lstatNoLink(r);
    } catch (err) {
      const recent = cx.recent.attrs(name);
      if (!recent || !(err instanceof SftpError) || err.status !== 'NO_SUCH_FILE') throw err;
      // Routing already took the file this session uploaded: answer as if the change applied.
      refuseOwnerChange(wants, recent, r);
      cx.recent.update(name, definedOnly({ size: wants.size, atime: wants.atime, mtime: wants.mtime }));
      return rq.status(STATUS.OK);
    }
    refuseOwnerChange(wants, st, r);
    if (wants.size !== undefined && wants.size !== st.size) {
      throw denied(`Cannot change the size of ${r.path}: files in /OUT are complete once uploaded; upload it again instead`);
    }
    if (wants.atime !== undefined || wants.mtime !== undefined) {
      await utimes(r.abs, wants.atime ?? st.atimeMs / 1000, wants.mtime ?? st.mtimeMs / 1000);
    }
    return rq.status(STATUS.OK);
  }
  const current = await statPath(cx, r); // exists, and is no link
  refuseOwnerChange(wants, current, r);
  refuseChanges(wants, r);
  rq.status(STATUS.OK);
}

/** FSETSTAT: an upload's size and times apply to its temp file, after its writes in flight. */
export async function fsetstatRequest(cx: RequestContext, rq: Reply, handle: Buffer, attrs: InputAttributes): Promise<void> {
  const h = cx.handles.get(handle);
  const wants = changes(attrs);
  if (wants.uid !== undefined || wants.gid !== undefined) {
    refuseOwnerChange(wants, h.kind === 'file' ? (h.upload ? await h.upload.stat() : await fstatP(h.fd)) : await cx.home.lstatNoLink(h.r), h.r);
  }
  if (h.kind === 'file' && h.upload) {
    await cx.handles.idle(h);
    await h.upload.setAttrs(wants);
    return rq.status(STATUS.OK);
  }
  refuseChanges(wants, h.r);
  rq.status(STATUS.OK);
}

type Changes = { size?: number; atime?: number; mtime?: number; uid?: number; gid?: number };

function refuseOwnerChange(wants: Changes, current: { uid: number; gid: number }, r: Resolved): void {
  if ((wants.uid !== undefined && wants.uid !== current.uid) || (wants.gid !== undefined && wants.gid !== current.gid)) allow('set-owner', r);
}

/** Outside /OUT's files only permissions may be "set" (and are ignored). */
function refuseChanges(wants: Changes, r: Resolved): void {
  if (wants.size !== undefined) allow('set-size', r);
  if (wants.atime !== undefined || wants.mtime !== undefined) allow('set-times', r);
}

function changes(a: InputAttributes): Changes {
  const out: Changes = {};
  if (typeof a.size === 'number') out.size = a.size;
  if (typeof a.uid === 'number') out.uid = a.uid;
  if (typeof a.gid === 'number') out.gid = a.gid;
  if (typeof a.atime === 'number') out.atime = a.atime;
  else if (a.atime instanceof Date) out.atime = a.atime.getTime() / 1000;
  if (typeof a.mtime === 'number') out.mtime = a.mtime;
  else if (a.mtime instanceof Date) out.mtime = a.mtime.getTime() / 1000;
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
