import type { SFTPWrapper } from 'ssh2';
import type { SftpAttrs } from './file-attrs.js';
import { sendPacket } from './sftp-wire.js';

/**
 * The replies of one handle, in the order its requests arrived. Writes past a file's first 64 KiB
 * and reads finish in libuv's thread pool in any order; OpenSSH's sftp-server answers in request
 * order, and Paramiko's pipelined `put` waits forever for a reply that overtook another. Each
 * request takes its turn on arrival; a finished reply waits until every earlier one has gone.
 */
export class ReplyOrder {
  private readonly queue: Array<{ send: (() => void) | undefined }> = [];
  private head = 0;

  /** A turn for the next request: call it with the reply's send once the reply is ready. */
  take(): (send: () => void) => void {
    const slot: { send: (() => void) | undefined } = { send: undefined };
    this.queue.push(slot);
    return (send) => {
      slot.send = send;
      this.flush();
    };
  }

  private flush(): void {
    while (this.head < this.queue.length) {
      const slot = this.queue[this.head]!;
      if (!slot.send) break;
      this.queue[this.head++] = { send: undefined };
      slot.send();
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

type Entry = { filename: string; longname: string; attrs: SftpAttrs };

/**
 * The one reply to one request. A request on a handle answers in its turn (ReplyOrder); the others
 * at once. Nothing is sent once the session has ended, and a second answer is ignored.
 */
export class Reply {
  private answered = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    readonly id: number,
    private readonly live: () => boolean,
    private readonly turn?: (send: () => void) => void,
  ) {}

  /** Runs `fn` when it is this reply's turn (at once without a handle); `fn` must send the reply. */
  send(fn: () => void): void {
    if (this.answered) return;
    this.answered = true;
    if (this.turn) this.turn(fn);
    else fn();
  }

  status(code: number, message?: string): void {
    this.send(() => this.live() && this.sftp.status(this.id, code, message));
  }

  attrs(attrs: SftpAttrs): void {
    this.send(() => this.live() && this.sftp.attrs(this.id, attrs));
  }

  handle(handle: Buffer): void {
    this.send(() => this.live() && this.sftp.handle(this.id, handle));
  }

  name(entries: Entry[]): void {
    this.send(() => this.live() && this.sftp.name(this.id, entries));
  }

  /** A ready-made packet (DATA, EXTENDED_REPLY). */
  packet(packet: Buffer): void {
    this.send(() => this.live() && sendPacket(this.sftp, packet));
  }
}
