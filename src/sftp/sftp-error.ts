/**
 * Why the SFTP edge refused a request. Carries the SFTP v3 status it becomes and a message for the
 * client that names the path and what to do. Created by the path, upload and session code; turned
 * into a STATUS packet in one place (`statusOf`).
 */
export type SftpStatusName = 'EOF' | 'NO_SUCH_FILE' | 'PERMISSION_DENIED' | 'FAILURE' | 'BAD_MESSAGE' | 'OP_UNSUPPORTED';

export class SftpError extends Error {
  override readonly name = 'SftpError';
  constructor(
    readonly status: SftpStatusName,
    message: string,
  ) {
    super(message);
  }
}

export const denied = (message: string) => new SftpError('PERMISSION_DENIED', message);
export const noSuchFile = (path: string) => new SftpError('NO_SUCH_FILE', `No such file or folder: ${path}`);
export const failure = (message: string) => new SftpError('FAILURE', message);

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02 §7). */
export const STATUS = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, BAD_MESSAGE: 5, OP_UNSUPPORTED: 8 } as const;

/** Maps anything thrown by a request handler to (status, message); file system errors name the client's path. */
export function statusOf(err: unknown, clientPath: string): { code: number; message: string; unexpected: boolean } {
  if (err instanceof SftpError) return { code: STATUS[err.status], message: err.message, unexpected: false };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return { code: STATUS.NO_SUCH_FILE, message: `No such file or folder: ${clientPath}`, unexpected: false };
    case 'EEXIST':
      return { code: STATUS.FAILURE, message: `${clientPath} already exists`, unexpected: false };
    case 'ELOOP':
    case 'EACCES':
    case 'EPERM':
      return { code: STATUS.PERMISSION_DENIED, message: `Permission denied: ${clientPath}`, unexpected: false };
    case 'EISDIR':
      return { code: STATUS.FAILURE, message: `${clientPath} is a folder, not a file`, unexpected: false };
    case 'ENOTDIR':
      return { code: STATUS.NO_SUCH_FILE, message: `No such file or folder: ${clientPath}`, unexpected: false };
    case 'ENOSPC':
    case 'EDQUOT':
      return { code: STATUS.FAILURE, message: `The server is out of disk space; ${clientPath} was not written. Try again later.`, unexpected: true };
    default:
      return { code: STATUS.FAILURE, message: `The server could not complete the request on ${clientPath}; try again or contact the operator`, unexpected: true };
  }
}
