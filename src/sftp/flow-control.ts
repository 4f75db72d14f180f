import type { SFTPWrapper } from 'ssh2';
import type { Logger } from '../log.js';
import { gateIncoming, onOutgoingDrained, outgoingBacklog, resumeIncoming } from './sftp-wire.js';

/** Backpressure: reads in flight, responses waiting for the client's window, and writes in flight. */
const READ_BUDGET = 8 * 1024 * 1024;
const BACKLOG_LIMIT = 4 * 1024 * 1024;
const WRITE_BUDGET = 32 * 1024 * 1024;
const READ_QUEUE_LIMIT = 1024;

/**
 * One session's flow control. The gate holds incoming SFTP data (held, not lost) until the home is
 * ready and while too much is in flight — ssh2 then stops opening the client's window; the pump
 * runs queued reads and releases held data when there is room again; the stall timer ends a
 * session whose client leaves its responses unread (window closed) for `stalledMs`.
 */
export class FlowControl {
  private readonly readQueue: Array<{ run(): void; drop(): void }> = [];
  private readBytesInFlight = 0;
  private writeBytesInFlight = 0;
  private readonly held: Buffer[] = [];
  private holding = true;
  private notReady = true;
  private readonly deliver: (data: Buffer) => void;
  private stalledTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly o: { stalledMs: number; log: Logger; onStalled(): void; ready: Promise<void> },
  ) {
    this.deliver = gateIncoming(sftp, (data) => {
      if (!this.notReady && !this.holding && !this.overloaded()) return false;
      this.holding = true;
      this.held.push(data);
      if (!this.notReady) this.armStalled();
      return true;
    });
    // Requests wait (held, not lost) until the home is ready.
    o.ready.then(
      () => {
        this.notReady = false;
        this.pump();
      },
      () => o.onStalled(),
    );
    onOutgoingDrained(sftp, () => this.pump());
  }

  /**
   * Starts a read when the read budget and the client's window allow (at once, or queued in
   * arrival order). Its bytes count until it calls `sent` (its reply has gone). Resolves when the
   * read is over — or dropped because the session ended.
   */
  read(bytes: number, start: (sent: () => void) => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const run = () => {
        if (this.ended) return resolve();
        this.readBytesInFlight += bytes;
        let counted = true;
        const sent = () => {
          if (!counted) return;
          counted = false;
          this.readBytesInFlight -= bytes;
          this.pump();
        };
        start(sent).then(
          () => resolve(),
          () => resolve(),
        );
      };
      if (this.readQueue.length || this.readBytesInFlight >= READ_BUDGET || this.backlogged()) {
        this.readQueue.push({ run, drop: resolve });
        if (this.backlogged()) this.armStalled();
        return;
      }
      run();
    });
  }

  /** Counts a write's bytes while it is in flight; over the budget the gate holds further input. */
  write<T>(bytes: number, io: Promise<T>): Promise<T> {
    this.writeBytesInFlight += bytes;
    const done = () => {
      this.writeBytesInFlight -= bytes;
      this.pump();
    };
    io.then(done, done);
    return io;
  }

  /** The session is over: nothing runs any more, queued reads are dropped. */
  end(): void {
    this.ended = true;
    if (this.stalledTimer) clearTimeout(this.stalledTimer);
    for (const q of this.readQueue.splice(0)) q.drop();
    this.held.length = 0;
  }

  private backlogged(): boolean {
    return outgoingBacklog(this.sftp) > BACKLOG_LIMIT;
  }

  private overloaded(): boolean {
    return this.writeBytesInFlight > WRITE_BUDGET || this.readQueue.length > READ_QUEUE_LIMIT || this.backlogged();
  }

  private armStalled(): void {
    if (this.stalledTimer || this.ended) return;
    this.stalledTimer = setTimeout(() => {
      this.stalledTimer = undefined;
      if (this.holding || this.backlogged()) {
        this.o.log.warn({ op: 'sftp', backlog: outgoingBacklog(this.sftp) }, 'client stopped reading its responses; ending the session');
        this.o.onStalled();
      }
    }, this.o.stalledMs);
    this.stalledTimer.unref();
  }

  /** Runs queued reads and releases held input when there is room again. */
  private pump(): void {
    if (this.ended) return;
    while (this.readQueue.length && this.readBytesInFlight < READ_BUDGET && !this.backlogged()) {
      this.readQueue.shift()!.run();
    }
    if (this.holding && !this.notReady && !this.overloaded()) {
      while (this.held.length && !this.overloaded()) {
        this.deliver(this.held.shift()!);
        if (this.ended) return;
      }
      if (this.held.length === 0) {
        this.holding = false;
        resumeIncoming(this.sftp);
      }
    }
    if (this.readQueue.length && this.backlogged()) this.armStalled();
    if (!this.holding && !this.backlogged() && this.stalledTimer) {
      clearTimeout(this.stalledTimer);
      this.stalledTimer = undefined;
    }
  }
}
