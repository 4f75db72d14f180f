import { link, lstat, readdir, rename, unlink } from 'node:fs/promises';
import { attrsOf, longname, type SftpAttrs } from './file-attrs.js';
import { allow } from './policy.js';
import type { RequestContext } from './request-context.js';
import type { Reply } from './reply.js';
import type { Place } from './sealed-home.js';
import { denied, failure, noSuchFile, STATUS } from './sftp-error.js';
import { statPath } from './attr-requests.js';
import { isUploadTempName } from '../storage/temp-names.js';
import { uploadEvents } from './upload-events.js';

const READDIR_BATCH = 100;
type OutFile = Extract<Place, { kind: 'out-file' }>;

export async function opendirRequest(cx: RequestContext, rq: Reply, path: string): Promise<void> {
  cx.refuseWhileDraining(path);
  const r = cx.home.resolve(path);
  allow('list', r);
  if (r.place.kind === 'out-file') {
    await statPath(cx, r); // NO_SUCH_FILE when it is not there
    throw failure(`${r.path} is a file, not a folder`);
  }
  if (r.place.kind !== 'root') {
    const st = await cx.home.lstatNoLink(r);
    if (!st.isDirectory()) throw failure(`${r.path} is a file, not a folder`);
  }
  rq.handle(cx.handles.add({ kind: 'dir', r, names: undefined, pos: 0 }));
}

/** READDIR: files and folders in batches; upload temp files, links and specials are not shown. */
export async function readdirRequest(cx: RequestContext, rq: Reply, handle: Buffer): Promise<void> {
  const h = cx.handles.get(handle);
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
      if (!st.isFile() && !st.isDirectory()) return;
      if (h.r.place.kind === 'out' && !st.isFile()) return;
      const attrs = attrsOf(st);
      out.push({ filename: name, longname: longname(name, attrs, cx.owner.username, st.nlink), attrs });
    });
  }
  if (out.length === 0) return rq.status(STATUS.EOF, 'End of folder');
  rq.name(out);
}

export async function removeRequest(cx: RequestContext, rq: Reply, path: string): Promise<void> {
  const r = cx.home.resolve(path);
  allow('remove', r);
  const st = await cx.home.lstatNoLink(r);
  if (st.isDirectory()) throw denied(`Cannot remove ${r.path}: it is a folder, and folders are kept by the platform`);
  await unlink(r.abs);
  if (r.place.kind === 'out-file') {
    cx.recent.forget(r.place.name);
    cx.quota?.forget();
  } else cx.fetches.removed(r, cx.owner.systemId);
  cx.log.info({ op: 'remove', system: cx.owner.username, path: r.path }, `removed ${r.path}`);
  rq.status(STATUS.OK);
}

/**
 * RENAME within /OUT. SFTP v3's RENAME does not replace an existing file (as OpenSSH's server);
 * posix-rename@openssh.com (`replace`) does. A rename to `*.trigger` is how WinSCP's trigger arrives.
 */
export async function renameRequest(cx: RequestContext, rq: Reply, fromPath: string, toPath: string, replace = false): Promise<void> {
  const from = cx.home.resolve(fromPath);
  const to = cx.home.resolve(toPath);
  allow('rename', from);
  allow('rename', to);
  const fromName = (from.place as OutFile).name;
  const toName = (to.place as OutFile).name;
  if (cx.handles.openUpload(fromName)) throw failure(`${from.path} is still being uploaded; close it before renaming`);
  const st = await cx.home.lstatNoLink(from);
  if (!st.isFile()) throw failure(`${from.path} is not a file`);
  if (fromName === toName) return rq.status(STATUS.OK);
  const target = await lstat(to.abs).catch(() => undefined);
  if (target && !target.isFile()) throw failure(`Cannot rename onto ${to.path}: it is not a file`);
  if (replace) {
    await rename(from.abs, to.abs);
  } else {
    // Link, then unlink: fails on an existing target instead of replacing it.
    await link(from.abs, to.abs).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? failure(`${to.path} already exists; remove it first (or use posix-rename)`) : err;
    });
    await unlink(from.abs);
  }
  cx.recent.renamed(fromName, toName);
  if (replace) cx.quota?.forget();
  cx.log.info({ op: 'rename', system: cx.owner.username, from: from.path, to: to.path }, `renamed ${from.path} to ${to.path}`);
  uploadEvents.emit('renamed', { systemId: cx.owner.systemId, username: cx.owner.username, from: fromName, to: toName, absPath: to.abs });
  rq.status(STATUS.OK);
}

/** `cd ..` must work: REALPATH collapses ".." lexically, never above "/". Other requests refuse "..". */
export function realpathRequest(cx: RequestContext, rq: Reply, path: string): void {
  const parts: string[] = [];
  for (const seg of String(path).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  const r = cx.home.resolve(`/${parts.join('/')}`);
  rq.name([{ filename: r.path, longname: r.path, attrs: {} as SftpAttrs }]);
}
