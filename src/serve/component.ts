import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { ReadinessCheck } from '../http/health-server.js';

export type Role = 'all' | 'sftp' | 'router' | 'portal';

/** What a part of the server gets at start. */
export interface ServeContext {
  config: Config;
  database: Database;
  role: Role;
}

/** One part of `serve` (SFTP listener, router workers, folder watcher…), started in order, stopped in reverse. */
export interface Component {
  name: string;
  /** Stops taking new work and finishes what is in flight; resolves when done. */
  stop(): Promise<void>;
  readiness?: Record<string, ReadinessCheck>;
  /** Lines for the person who started the node, shown once it is ready (where to go, what to do first). */
  notes?: string[];
}

export type ComponentFactory = (ctx: ServeContext) => Promise<Component | undefined>;
