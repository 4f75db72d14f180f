import { mkdir } from 'node:fs/promises';
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { denied, failure, noSuchFile } from './sftp-error.js';
import { isUploadTempName } from '../storage/temp-names.js';

/**
 * Where a client path points inside a sealed home (SPEC §3). The home is `/`; it holds exactly
 * `/OUT` (flat: files only) and `/IN` (files and authority folders, any depth).
 */
export type Place =
  | { kind: 'root' }
  | { kind: 'out' }
  | { kind: 'out-file'; name: string }
  | { kind: 'in'; rel: string[] }
  /** A path that cannot exist in a home (`/foo`, `/OUT/a/b`). */
  | { kind: 'nowhere' };

export interface Resolved {
  /** Normalised client path, always absolute ('/', '/OUT/x.csv'). */
  path: string;
  place: Place;
  /** The file system path (inside the home). */
  abs: string;
}

/**
 * One system's home as that system sees it. Every client path goes through `resolve` (refuses
 * `..`, NUL, backslashes) and, before it touches the disk, `checkParents` (every folder on the way
 * is a real folder, not a link): links planted on disk are never followed. The checks are `lstat`
 * calls made at once on the event loop, like an upload's open and close: each takes a few
 * microseconds, while a round trip through libuv's thread pool cost more CPU than the call — a
 * small file's upload makes five of them (issue 11 profiles).
 */
export class SealedHome {
  readonly outDir: string;
  readonly inDir: string;

  constructor(readonly root: string) {
    this.outDir = join(root, 'OUT');
    this.inDir = join(root, 'IN');
  }

  /** Creates the home, OUT and IN when missing (at login). */
  async prepare(): Promise<void> {
    await mkdir(this.outDir, { recursive: true, mode: 0o750 });
    await mkdir(this.inDir, { recursive: true, mode: 0o750 });
    for (const dir of [this.root, this.outDir, this.inDir]) await this.requireRealDir(dir, '/');
  }

  resolve(clientPath: string): Resolved {
    if (clientPath.includes('\0')) throw denied(`Refused a path with a NUL byte: ${JSON.stringify(clientPath)}`);
    if (clientPath.includes('\\')) throw denied(`Refused a path with a backslash: ${clientPath} (use / between folders)`);
    const segments: string[] = [];
    for (const seg of clientPath.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') throw denied(`Refused a path with "..": ${clientPath} (your home is /, with /OUT and /IN)`);
      if (Buffer.byteLength(seg) > 255) throw failure(`A name longer than 255 bytes is not allowed: ${clientPath.slice(0, 80)}…`);
      segments.push(seg);
    }
    const path = `/${segments.join('/')}`;
    if (segments.length === 0) return { path, place: { kind: 'root' }, abs: this.root };
    const [top, ...rest] = segments as [string, ...string[]];
    if (top === 'OUT') {
      if (rest.length === 0) return { path, place: { kind: 'out' }, abs: this.outDir };
      if (rest.length === 1) {
        const name = rest[0]!;
        if (isUploadTempName(name)) throw denied(`${path} is reserved for uploads in progress; choose another name`);
        return { path, place: { kind: 'out-file', name }, abs: join(this.outDir, name) };
      }
      return { path, place: { kind: 'nowhere' }, abs: this.root };
    }
    if (top === 'IN') return { path, place: { kind: 'in', rel: rest }, abs: join(this.inDir, ...rest) };
    return { path, place: { kind: 'nowhere' }, abs: this.root };
  }

  /** Checks that every folder above `r` (home, OUT/IN, IN's subfolders) is a real folder. */
  async checkParents(r: Resolved): Promise<void> {
    const p = r.place;
    if (p.kind === 'root' || p.kind === 'nowhere') return;
    await this.requireRealDir(this.root, r.path);
    if (p.kind === 'out') return;
    if (p.kind === 'out-file') return this.requireRealDir(this.outDir, r.path);
    if (p.rel.length === 0) return;
    let dir = this.inDir;
    await this.requireRealDir(dir, r.path);
    for (const seg of p.rel.slice(0, -1)) {
      dir = join(dir, seg);
      await this.requireRealDir(dir, r.path);
    }
  }

  /** lstat of the path itself after checking its parents; a link is refused, never followed. */
  async lstatNoLink(r: Resolved): Promise<Stats> {
    if (r.place.kind === 'nowhere') throw noSuchFile(r.path);
    await this.checkParents(r);
    const st = lstatHere(r.abs, r.path);
    if (st.isSymbolicLink()) throw denied(`${r.path} is a symbolic link; links are not followed here`);
    if (!st.isFile() && !st.isDirectory()) throw denied(`${r.path} is not a regular file or folder`);
    return st;
  }

  private async requireRealDir(dir: string, clientPath: string): Promise<void> {
    const st = lstatHere(dir, clientPath);
    if (st.isSymbolicLink()) throw denied(`${clientPath}: a folder on the way is a symbolic link; links are not followed here`);
    if (!st.isDirectory()) throw noSuchFile(clientPath);
  }
}

/** lstat on the event loop; a missing path is the client's NO_SUCH_FILE. */
function lstatHere(abs: string, clientPath: string): Stats {
  try {
    return lstatSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' || code === 'ENOTDIR' ? noSuchFile(clientPath) : err;
  }
}
