import { statfs } from 'node:fs/promises';
import type { SFTPWrapper } from 'ssh2';
import { statPath } from './attr-requests.js';
import { renameRequest } from './folder-requests.js';
import { allow } from './policy.js';
import type { RequestContext } from './request-context.js';
import type { Reply } from './reply.js';
import { SftpError, STATUS } from './sftp-error.js';
import { advertiseExtensions, extendedReply, MAX_PACKET, MAX_READ_WRITE, readStrings, uint64 } from './sftp-wire.js';

/** The extensions OpenSSH's sftp-server offers that clients use (posix-rename, statvfs, fsync, limits). */
export function offerOpenSshExtensions(sftp: SFTPWrapper): void {
  advertiseExtensions(sftp, {
    'posix-rename@openssh.com': '1',
    'statvfs@openssh.com': '2',
    'fstatvfs@openssh.com': '2',
    'fsync@openssh.com': '1',
    'limits@openssh.com': '1',
  });
}

/** The handle an EXTENDED request works on, if any (its reply then waits its turn on that handle). */
export function extensionHandle(name: string, data: Buffer | undefined): Buffer | undefined {
  return name === 'fsync@openssh.com' || name === 'fstatvfs@openssh.com' ? readStrings(data, 1)?.[0] : undefined;
}

export async function extendedRequest(cx: RequestContext, rq: Reply, name: string, data: Buffer | undefined): Promise<void> {
  switch (name) {
    case 'limits@openssh.com': {
      const body = Buffer.concat([uint64(MAX_PACKET), uint64(MAX_READ_WRITE), uint64(MAX_READ_WRITE), uint64(cx.maxHandles)]);
      return rq.packet(extendedReply(rq.id, body));
    }
    case 'statvfs@openssh.com':
    case 'fstatvfs@openssh.com': {
      const [arg] = readStrings(data, 1) ?? [];
      if (!arg) throw new SftpError('BAD_MESSAGE', `Malformed ${name} request`);
      if (name === 'statvfs@openssh.com') await statPath(cx, cx.home.resolve(arg.toString('utf8')));
      else cx.handles.get(arg);
      const fs = await statfs(cx.home.root);
      const body = Buffer.concat([
        uint64(fs.bsize), uint64(fs.bsize), uint64(fs.blocks), uint64(fs.bfree), uint64(fs.bavail),
        uint64(fs.files), uint64(fs.ffree), uint64(fs.ffree), uint64(0), uint64(0), uint64(255),
      ]);
      return rq.packet(extendedReply(rq.id, body));
    }
    case 'fsync@openssh.com': {
      const [handle] = readStrings(data, 1) ?? [];
      if (!handle) throw new SftpError('BAD_MESSAGE', 'Malformed fsync@openssh.com request');
      const h = cx.handles.file(handle);
      if (h.upload) await h.upload.fsync();
      return rq.status(STATUS.OK);
    }
    case 'posix-rename@openssh.com': {
      const args = readStrings(data, 2);
      if (!args) throw new SftpError('BAD_MESSAGE', 'Malformed posix-rename@openssh.com request');
      return renameRequest(cx, rq, args[0]!.toString('utf8'), args[1]!.toString('utf8'), true);
    }
    case 'hardlink@openssh.com': {
      const [, linkPath] = readStrings(data, 2) ?? [];
      allow('link', cx.home.resolve(linkPath?.toString('utf8') ?? '/'));
      throw new SftpError('OP_UNSUPPORTED', 'Hard links are not supported by this server');
    }
    default:
      throw new SftpError('OP_UNSUPPORTED', `The extension ${name} is not supported by this server`);
  }
}
