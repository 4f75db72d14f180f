import type { PoolClient } from '../db/pool.js';
import type { Logger } from '../log.js';
import type { UploadHashCache } from './intake/upload-hash-cache.js';
import type { StepLog } from './sql/transfer-steps.js';
import type { TransferLock } from './transfer-lock.js';

/** What the router's steps need from the node. */
export interface RouterDeps {
  dataDir: string;
  env: 'test' | 'production';
  hashes: UploadHashCache;
}

/** What every step of one job on one transfer works with. */
export interface StepContext {
  deps: RouterDeps;
  /** The job's connection; the transfer's lock lives on it. */
  client: PoolClient;
  lock: TransferLock;
  /** Steps done since the last recorded state, written with the next one. */
  steps: StepLog;
  log: Logger;
}
