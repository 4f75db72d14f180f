import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../accounts/clock.js';
import type { Config } from '../config/config.js';
import type { Pool } from '../db/pool.js';
import { decoyHash } from '../accounts/password-hash.js';
import { log } from '../log.js';
import { openRoutingQueue, queueBackend, retryPolicy, type RoutingQueue } from '../router/routing-queue.js';
import { apiPlugin } from './api/index.js';
import { authenticate } from './authenticate.js';
import { errorHandling } from './error-handling.js';
import './fastify-types.js';
import { pagesPlugin } from './pages/index.js';
import { problemSchema } from './problem.js';
import { security, type RateLimits } from './security.js';
import { views } from './views.js';

export interface PortalOptions {
  pool: Pool;
  config: Config;
  /** The database's address, for the routing queue on PostgreSQL (default: DATABASE_URL). */
  databaseUrl?: string;
  clock?: Clock;
  rateLimits?: Partial<RateLimits>;
}

/** Request bodies (JSON and forms); uploads have their own limit (multipart, security.ts). */
export const BODY_LIMIT = 1024 * 1024;

/**
 * The portal (SPEC §11): server-rendered pages under `/` and the JSON API under `/api/v1`, one
 * Fastify application. Each area is a plugin (pages/…, api/…) whose routes carry JSON Schemas; the
 * same schemas validate requests (ajv), shape responses and make `/api/v1/openapi.json`.
 */
export async function buildPortal(o: PortalOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ op: 'portal' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // PORTAL_TRUST_PROXY: behind a TLS proxy, the client's address (lockouts, rate limits) is in X-Forwarded-For.
    // `true` is the one proxy in front, whatever its address: the last address in the header, the one
    // it added (HAProxy's `option forwardfor` appends it after whatever the client wrote there). Fastify's
    // own `true` would take the first, which the client writes: a new one per guess escaped the lockout.
    trustProxy: o.config.portalTrustProxy === true ? (_address: string, hop: number) => hop === 0 : (o.config.portalTrustProxy ?? false),
    genReqId: () => randomBytes(8).toString('hex'),
    // Every bad field is named in a 400, not only the first.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // The router's own answers (a bad %-escape: 400, a name over maxParamLength: 414) are bare JSON
    // that no hook sees: no CSP, nosniff or error page. So a path that does not decode is taken
    // literally, and no name is too long for the router (a URL fits in Node's 16 KiB of headers);
    // each route's schema limits its names.
    rewriteUrl: (req) => literalBadEscapes(req.url ?? '/'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
  });
  const queue: { open?: RoutingQueue } = {};
  app.decorate('portal', {
    pool: o.pool,
    config: o.config,
    clock: o.clock ?? systemClock,
    secureCookies: o.config.portalPublicUrl.startsWith('https://'),
    routingQueue: () => (queue.open ??= openRoutingQueue(queueBackend(o.config, databaseUrlOf(o)), retryPolicy(o.config))),
  });
  app.addHook('onClose', async () => {
    await queue.open?.close();
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.addSchema(problemSchema);
  // The decoy hash for unknown e-mails is made now, so the first such login costs what the others do.
  await decoyHash();

  await app.register(security, { secret: await cookieSecret(o.pool), rateLimits: o.rateLimits });
  await app.register(views);
  await app.register(errorHandling);
  await app.register(authenticate);
  app.decorate('apiRoutes', []);
  await app.register(apiPlugin, { prefix: '/api/v1' });
  await app.register(pagesPlugin);
  return app;
}

/** A path whose %-escapes do not decode (`/%E0%A4%A`, `/%zz`) with each % as %25: a name like any other. */
function literalBadEscapes(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.includes('%')) return url;
  try {
    decodeURIComponent(path);
    return url;
  } catch {
    return path.replace(/%/g, '%25') + (q === -1 ? '' : url.slice(q));
  }
}

function databaseUrlOf(o: PortalOptions): string {
  const url = o.databaseUrl ?? o.config.databaseUrl;
  if (!url) throw new Error('buildPortal needs the databaseUrl (DATABASE_URL, or the embedded database\'s) for the routing queue');
  return url;
}

/** The key that signs cookies, the same on every portal node: made once and kept in the database. */
async function cookieSecret(pool: Pool): Promise<string> {
  await pool.query(`INSERT INTO portal_secrets (name, value) VALUES ('cookie', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32).toString('base64url')]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM portal_secrets WHERE name = 'cookie'`);
  return rows[0]!.value;
}
