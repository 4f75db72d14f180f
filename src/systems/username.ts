import { UsageError } from '../errors.js';

/** How long a system's user name may be (the systems.username CHECK; as a folder name, in bytes). */
export const USERNAME_MAX_LENGTH = 255;

/**
 * A system's SFTP user name becomes its home folder `<data>/homes/<user>` (SPEC §1, §3), so it
 * must be 1–255 characters and safe as one folder name.
 */
export function checkUsername(username: string): string {
  const problem = usernameProblem(username);
  if (problem) {
    throw new UsageError(`'${username}' cannot be a system user name: ${problem}. Use 1–255 characters such as letters, digits, '-', '_' and '.' (not first).`, { code: 'system-username-invalid', values: { username } });
  }
  return username;
}

export function usernameProblem(u: string): string | undefined {
  if (u.length === 0) return 'it is empty';
  if (Buffer.byteLength(u, 'utf8') > USERNAME_MAX_LENGTH) return `it is longer than ${USERNAME_MAX_LENGTH} bytes`;
  if (u.includes('/') || u.includes('\\')) return "it contains '/' or '\\'";
  if (u.includes('\0')) return 'it contains a NUL character';
  if (u === '.' || u === '..') return "'.' and '..' are not folder names";
  if (u.startsWith('.')) return "it starts with '.' (a hidden folder)";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(u)) return 'it contains a control character';
  if (/\s/.test(u)) return 'it contains white space';
  return undefined;
}
