import { EventEmitter } from 'node:events';

/** After an upload's temp file was renamed to its real name in /OUT (the file is complete). */
export interface UploadClosed {
  systemId: number;
  username: string;
  /** The file's name in /OUT. */
  name: string;
  absPath: string;
  size: number;
  /** SHA-256 (lower-case hex) of the bytes, when they all arrived in order; else undefined. */
  sha256?: string;
  /** performance.now() when the file got its real name. */
  at: number;
}

/** A RENAME inside /OUT (WinSCP uploads `x.trigger.filepart`, then renames it to `x.trigger`). */
export interface UploadRenamed {
  systemId: number;
  username: string;
  from: string;
  to: string;
  /** Absolute path of the file under its new name. */
  absPath: string;
}

interface UploadEventMap {
  closed: [UploadClosed];
  renamed: [UploadRenamed];
}

/** What the SFTP edge tells the rest of the node (the router subscribes). Listeners must not throw. */
export const uploadEvents = new EventEmitter<UploadEventMap>();
uploadEvents.setMaxListeners(50);
