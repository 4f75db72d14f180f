import type { Stats } from 'node:fs';

/** SFTP v3 ATTRS as ssh2 writes them. */
export interface SftpAttrs {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
}

export function attrsOf(st: Stats): SftpAttrs {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

/** Attributes of the folders every home shows (/, /OUT, /IN) when the disk is not asked. */
export function dirAttrs(st: Stats): SftpAttrs {
  return attrsOf(st);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_S = 182 * 24 * 3600;

/**
 * An `ls -l` line as OpenSSH's sftp-server writes it (clients such as WinSCP, FileZilla and
 * Paramiko's listdir_attr parse it): `-rw-r-----    1 owner    owner        1234 Nov 22 10:15 name`.
 */
export function longname(name: string, a: SftpAttrs, owner: string, nlink = 1, nowS = Date.now() / 1000): string {
  const d = new Date(a.mtime * 1000);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const recent = Math.abs(nowS - a.mtime) < SIX_MONTHS_S;
  const when = recent
    ? `${MONTHS[d.getUTCMonth()]} ${day} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    : `${MONTHS[d.getUTCMonth()]} ${day}  ${d.getUTCFullYear()}`;
  const user = owner.length > 8 ? owner.slice(0, 8) : owner.padEnd(8, ' ');
  return `${modeString(a.mode)} ${String(nlink).padStart(4, ' ')} ${user} ${user} ${String(a.size).padStart(8, ' ')} ${when} ${name}`;
}

function modeString(mode: number): string {
  const type = (mode & 0o170000) === 0o040000 ? 'd' : (mode & 0o170000) === 0o120000 ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let s = type;
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}
