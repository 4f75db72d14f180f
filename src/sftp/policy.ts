import type { Resolved } from './sealed-home.js';
import { denied, failure, noSuchFile, type SftpError } from './sftp-error.js';

/** What a request asks to do (SPEC §3), as SFTPGo's permissions name them. */
export type Operation =
  | 'upload'
  | 'download'
  | 'list'
  | 'remove'
  | 'rename'
  | 'set-times'
  | 'set-size'
  | 'set-owner'
  | 'make-folder'
  | 'remove-folder'
  | 'link'
  | 'read-link';

/** Where in a home: the root, /OUT, a file in /OUT, /IN, anything below /IN, or a path that cannot exist. */
export type Where = 'root' | 'out' | 'out-file' | 'in' | 'in-entry' | 'nowhere';

export function whereIs(r: Resolved): Where {
  const p = r.place;
  if (p.kind === 'in') return p.rel.length === 0 ? 'in' : 'in-entry';
  return p.kind;
}

const EVERYWHERE: readonly Where[] = ['root', 'out', 'out-file', 'in', 'in-entry'];

/**
 * SPEC §3's view of a system in one table (SFTPGo's `HasPerm`): a system may create, write, rename,
 * list, stat and delete in /OUT; list, read, stat and delete in /IN/**; nothing else — no folders,
 * no links, no change of owner. STAT is allowed everywhere and is not listed. Each refusal names the
 * path and what is possible instead.
 */
const POLICY: Record<Operation, { allow: readonly Where[]; refuse(r: Resolved, where: Where): SftpError }> = {
  upload: {
    allow: ['out-file'],
    refuse: (r) => denied(`Cannot write ${r.path}: files are uploaded to /OUT/<name>; /IN and the folders are read-only`),
  },
  download: {
    allow: ['in-entry'],
    refuse: (r, where) =>
      where === 'out-file'
        ? denied(`Cannot read ${r.path}: files in /OUT are upload-only`)
        : where === 'nowhere'
          ? noSuchFile(r.path)
          : failure(`${r.path} is a folder, not a file`),
  },
  list: { allow: EVERYWHERE, refuse: (r) => noSuchFile(r.path) },
  remove: {
    allow: ['out-file', 'in-entry'],
    refuse: (r, where) => (where === 'nowhere' ? noSuchFile(r.path) : denied(`Cannot remove ${r.path}: only files in /OUT and /IN can be removed`)),
  },
  rename: { allow: ['out-file'], refuse: (r) => denied(`Cannot rename ${r.path}: renaming works only between files in /OUT`) },
  'set-times': { allow: ['out-file'], refuse: (r) => denied(`Cannot change ${r.path}: only files in /OUT can have their times or size set`) },
  'set-size': { allow: ['out-file'], refuse: (r) => denied(`Cannot change ${r.path}: only files in /OUT can have their times or size set`) },
  'set-owner': { allow: [], refuse: (r) => denied(`Cannot change the owner or group of ${r.path}: ownership is kept by the platform`) },
  'make-folder': {
    allow: [],
    refuse: (r) => denied(`Cannot create folder ${r.path}: your home has exactly /OUT and /IN, and folders in /IN are made by the platform`),
  },
  'remove-folder': { allow: [], refuse: (r) => denied(`Cannot remove folder ${r.path}: the folders of your home are kept by the platform`) },
  link: { allow: [], refuse: (r) => denied(`Cannot create link ${r.path}: links are not allowed here`) },
  'read-link': { allow: [], refuse: (r) => denied(`Cannot read link ${r.path}: links are not allowed here`) },
};

/** Throws the refusal when SPEC §3 does not let a system do `operation` at `r`. */
export function allow(operation: Operation, r: Resolved): void {
  const rule = POLICY[operation];
  const where = whereIs(r);
  if (!rule.allow.includes(where)) throw rule.refuse(r, where);
}

/** True when SPEC §3 lets a system do `operation` at `r`. */
export function allowed(operation: Operation, r: Resolved): boolean {
  return POLICY[operation].allow.includes(whereIs(r));
}
