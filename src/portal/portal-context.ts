import type { Clock } from '../accounts/clock.js';
import type { Config } from '../config/config.js';
import type { Pool } from '../db/pool.js';
import type { RoutingQueue } from '../router/routing-queue.js';

/** What the portal's routes get (as `app.portal`): the same database and configuration as the rest of serve. */
export interface PortalContext {
  pool: Pool;
  config: Config;
  clock: Clock;
  /** Cookies carry `Secure` (PORTAL_PUBLIC_URL is https). */
  secureCookies: boolean;
  /** The router's queue (an operator's retry tells it), opened at its first use and closed with the portal. */
  routingQueue(): RoutingQueue;
}
