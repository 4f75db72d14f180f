import { close } from 'node:fs';
import { promisify } from 'node:util';
import type { SFTPWrapper } from 'ssh2';
import type { Logger } from '../log.js';
import { fsetstatRequest, fstatRequest, setstatRequest, statRequest } from './attr-requests.js';
import { closeHandle, openFile, readFile, writeFile } from './file-requests.js';
import { FetchTracker, type DeliveryEvents } from './fetch-tracking.js';
import type { SystemQuota } from './upload-quota.js';
import { FlowControl } from './flow-control.js';
import { opendirRequest, readdirRequest, realpathRequest, removeRequest, renameRequest } from './folder-requests.js';
import type { HandleBudget } from './handle-budget.js';
import { HandleTable } from './handle-table.js';
import { extendedRequest, extensionHandle, offerOpenSshExtensions } from './openssh-extensions.js';
import { allow, type Operation } from './policy.js';
import { RecentUploads } from './recent-uploads.js';
import type { RequestContext, RequestHandler } from './request-context.js';
import { Reply } from './reply.js';
import type { SealedHome } from './sealed-home.js';
import { failure, statusOf } from './sftp-error.js';
import type { UploadFsync, UploadOwner } from './upload.js';

const closeP = promisify(close);

export interface SessionOptions {
  owner: UploadOwner;
  home: SealedHome;
  maxFileBytes: number;
  fsync: UploadFsync;
  maxHandles: number;
  /** The system's quota, shared by its sessions on this node. */
  quota?: SystemQuota;
  /** Handles across this system's sessions and the whole process. */
  budget: HandleBudget;
  /** A client that leaves responses unread this long (window closed) loses the session. */
  stalledMs: number;
  log: Logger;
  onStalled(): void;
  /** Resolves when the home is prepared; requests are held until then. */
  ready: Promise<void>;
  /** Where fetched and deleted deliveries are recorded (none: not recorded). */
  deliveries?: DeliveryEvents;
}

/** A request that SPEC §3 never allows: answered by the policy's refusal. */
const refused =
  (operation: Operation): RequestHandler =>
  (cx, _rq, path: string) =>
    allow(operation, cx.home.resolve(String(path)));

const byPath = (path: unknown) => String(path);

/**
 * One handler per SFTP request (ssh2's event name), with the client path it names for logs and
 * refusals, and — for requests on a handle — where the handle is, so the reply waits its turn.
 */
const REQUESTS: Record<string, { run: RequestHandler; path?: (...args: any[]) => string; handle?: (...args: any[]) => Buffer | undefined }> = {
  OPEN: { run: openFile },
  READ: { run: readFile, handle: (h: Buffer) => h },
  WRITE: { run: writeFile, handle: (h: Buffer) => h },
  CLOSE: { run: closeHandle, handle: (h: Buffer) => h },
  FSTAT: { run: fstatRequest, handle: (h: Buffer) => h },
  FSETSTAT: { run: fsetstatRequest, handle: (h: Buffer) => h },
  STAT: { run: statRequest },
  LSTAT: { run: statRequest },
  SETSTAT: { run: setstatRequest },
  OPENDIR: { run: opendirRequest },
  READDIR: { run: readdirRequest, handle: (h: Buffer) => h },
  REMOVE: { run: removeRequest },
  RENAME: { run: (cx, rq, from: string, to: string) => renameRequest(cx, rq, from, to, false) },
  REALPATH: { run: realpathRequest },
  MKDIR: { run: refused('make-folder') },
  RMDIR: { run: refused('remove-folder') },
  SYMLINK: { run: refused('link') },
  READLINK: { run: refused('read-link') },
  EXTENDED: { run: extendedRequest, path: (name: string) => `extension ${name}`, handle: extensionHandle },
};

/**
 * One SFTP session of one system: wires ssh2's request events to one handler per request
 * (file-, attr-, folder-requests, openssh-extensions), each checked against SPEC §3's policy table
 * before it touches the disk. The session owns the parts they share — the handle table, flow
 * control, the STAT grace — and its end.
 */
export class SftpSession {
  private readonly handles: HandleTable;
  private readonly flow: FlowControl;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly cx: RequestContext;
  private ended = false;
  /** The server is stopping: no new handles; the ones open may finish. */
  private draining = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly o: SessionOptions,
  ) {
    offerOpenSshExtensions(sftp);
    this.handles = new HandleTable(o.maxHandles, o.budget, o.owner.username);
    this.flow = new FlowControl(sftp, { stalledMs: o.stalledMs, log: o.log, onStalled: o.onStalled, ready: o.ready });
    this.cx = {
      sftp,
      owner: o.owner,
      home: o.home,
      handles: this.handles,
      flow: this.flow,
      recent: new RecentUploads(),
      fetches: new FetchTracker(o.deliveries, o.log),
      log: o.log,
      maxFileBytes: o.maxFileBytes,
      maxHandles: o.maxHandles,
      fsync: o.fsync,
      quota: o.quota,
      ended: () => this.ended,
      refuseWhileDraining: (path) => {
        if (this.draining) {
          throw failure(`Cannot open ${path}: this server is shutting down and takes no new transfers; connect again (another node, or this one once it is back) and repeat it`);
        }
      },
      fail: (rq, op, clientPath, err) => this.fail(rq, op, clientPath, err),
    };
    for (const [event, request] of Object.entries(REQUESTS)) this.wire(event, request);
  }

  private wire(event: string, { run, path, handle }: (typeof REQUESTS)[string]): void {
    this.sftp.on(event as 'OPEN', (reqid: number, ...args: any[]) => {
      if (this.ended) return;
      const onHandle = handle?.(...args);
      const h = onHandle ? this.handles.find(onHandle) : undefined;
      const rq = new Reply(this.sftp, reqid, () => !this.ended, h?.replies.take());
      const pathOf = () => (path ? path(...args) : handle ? this.handles.pathOf(args[0] as Buffer) : byPath(args[0]));
      let result: Promise<void> | void;
      try {
        result = run(this.cx, rq, ...args);
      } catch (err) {
        return this.fail(rq, event, pathOf(), err);
      }
      if (result) {
        const tracked = result.catch((err: unknown) => this.fail(rq, event, pathOf(), err));
        this.inflight.add(tracked);
        void tracked.finally(() => this.inflight.delete(tracked));
      }
    });
  }

  private fail(rq: Reply, op: string, clientPath: string, err: unknown): void {
    const { code, message, unexpected } = statusOf(err, clientPath);
    if (unexpected) this.o.log.error({ err, op, path: clientPath }, 'request failed');
    else this.o.log.debug({ op, path: clientPath, message }, 'request refused');
    rq.status(code, message);
  }

  /** Resolves when no request is in flight any more (after the client's EOF). */
  async settled(): Promise<void> {
    for (;;) {
      const all = [...this.handles.pending(), ...this.inflight];
      if (all.length === 0) return;
      await Promise.allSettled(all);
    }
  }

  /** The session is over (client left, system disabled, server stopping): unfinished uploads leave nothing. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.flow.end();
    let abandoned = 0;
    for (const h of this.handles.clear()) {
      if (h.kind !== 'file') continue;
      if (h.upload) {
        if (!h.upload.isDone) abandoned++;
        await h.upload.abandon().catch(() => undefined);
      } else {
        await Promise.allSettled([...h.pending]);
        await closeP(h.fd).catch(() => undefined);
        this.cx.fetches.closed(h.coverage); // read whole, then the connection dropped before CLOSE
      }
    }
    if (abandoned) this.o.log.info({ op: 'upload', system: this.o.owner.username, abandoned }, `session ended mid-upload; removed ${abandoned} unfinished upload(s)`);
  }

  /**
   * Graceful shutdown: from now on OPEN and OPENDIR are refused (the client sees why); uploads and
   * reads already open go on. The server ends the session once it is `idle`.
   */
  drain(): void {
    this.draining = true;
  }

  /** No handle open and no upload still being closed (renamed into place). */
  get idle(): boolean {
    return this.handles.size === 0 && this.handles.uploads.size === 0;
  }

  get openHandles(): number {
    return this.handles.size;
  }
}
