import type { SFTPWrapper } from 'ssh2';
import type { Logger } from '../log.js';
import type { FetchTracker } from './fetch-tracking.js';
import type { SystemQuota } from './upload-quota.js';
import type { FlowControl } from './flow-control.js';
import type { HandleTable } from './handle-table.js';
import type { RecentUploads } from './recent-uploads.js';
import type { Reply } from './reply.js';
import type { SealedHome } from './sealed-home.js';
import type { UploadFsync, UploadOwner } from './upload.js';

/** What every request handler of one session works with (the session owns each part). */
export interface RequestContext {
  readonly sftp: SFTPWrapper;
  readonly owner: UploadOwner;
  readonly home: SealedHome;
  readonly handles: HandleTable;
  readonly flow: FlowControl;
  readonly recent: RecentUploads;
  /** Which delivered files were read whole or removed (recorded at CLOSE and REMOVE). */
  readonly fetches: FetchTracker;
  readonly log: Logger;
  readonly maxFileBytes: number;
  readonly maxHandles: number;
  readonly fsync: UploadFsync;
  /** The system's quota, shared by its sessions on this node (undefined: no quota). */
  readonly quota?: SystemQuota;
  /** The session is over: late results are dropped, new handles are given back. */
  ended(): boolean;
  /** Throws while the server is stopping: no new handles (the ones open may finish). */
  refuseWhileDraining(path: string): void;
  /** Answers `rq` with the status `err` maps to, and logs it. */
  fail(rq: Reply, op: string, clientPath: string, err: unknown): void;
}

/** One request handler: answers through `rq` (or throws; the session answers the refusal). */
export type RequestHandler = (cx: RequestContext, rq: Reply, ...args: any[]) => Promise<void> | void;
