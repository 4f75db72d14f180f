import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../authenticate.js';
import { Problem } from '../problem.js';
import { CSRF_HEADER } from '../security.js';
import { agreementsApi } from './agreements.js';
import { infrefsApi } from './infrefs.js';
import { meApi } from './me.js';
import { systemsApi } from './systems.js';
import { transfersApi } from './transfers.js';
import { usageApi } from './usage.js';
import { noticesApi } from './notices.js';
import { sharedSchemas } from './schemas.js';

/**
 * The JSON API's areas, one Fastify plugin each, routes relative to /api/v1 (see docs/portal.md,
 * "How to add an API route"). Add yours to this list.
 */
const AREAS: Array<(app: FastifyInstance) => Promise<void>> = [meApi, systemsApi, agreementsApi, infrefsApi, transfersApi, usageApi, noticesApi];

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered under /api/v1 (method and URL), for the OpenAPI test. */
    apiRoutes: Array<{ method: string; url: string }>;
  }
  interface FastifyContextConfig {
    /** A route anyone may call without logging in (the OpenAPI document). */
    public?: boolean;
  }
}

/**
 * `/api/v1` (SPEC §11): callers are people with a bearer token (`user token`) or a portal session
 * (whose writes carry the CSRF header). The OpenAPI document is made from the routes' schemas.
 */
export async function apiPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.apiRoutes.push({ method, url: route.url });
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'filudveksling self-service API',
        version: '1',
        description: `Errors are application/problem+json (RFC 9457). Authenticate with \`Authorization: Bearer <token>\` (from \`filudveksling user token <email>\`), or the portal's session cookie plus the \`${CSRF_HEADER}\` header (the page's \`<meta name="csrf-token">\`) for writes.`,
      },
      servers: [{ url: app.portal.config.portalPublicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    // Shared schemas keep their $id as their name under components.schemas (`Problem`, …).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  for (const schema of sharedSchemas) app.addSchema(schema);

  app.addHook('onRequest', async (request) => {
    if (!request.person && !request.routeOptions.config.public) throw new Problem(401, 'Authenticate with a bearer token (filudveksling user token <email>) or log in to the portal.');
  });
  app.addHook('preHandler', finiteNumbersOnly);
  app.addHook('preHandler', checkCsrfOfSessionWrites);
  // Answers are a person's own data: no shared or browser cache keeps them.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  for (const area of AREAS) await app.register(area);

  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
}

/**
 * ajv makes '1e400' in a query the number Infinity, an integer to it, and checks minimum and maximum
 * on finite numbers only: ?limit=1e400 passed its schema and reached PostgreSQL (a 500). Named here,
 * with the value as the client wrote it in the address (the parsed query holds only ajv's Infinity).
 */
async function finiteNumbersOnly(request: FastifyRequest): Promise<void> {
  for (const [field, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const written = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)).get(field) ?? String(value);
      throw new Problem(400, `Bad querystring: ${field} «${written}» is not a finite number; ${field} must be a whole number written in digits, such as 100.`, [
        { pointer: `#/${field}`, field, detail: `«${written}» is not a finite number; write a whole number in digits, such as 100` },
      ]);
    }
  }
}

/** A write with the session cookie must carry the CSRF token (header); a bearer token needs none. */
function checkCsrfOfSessionWrites(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  if (request.authVia !== 'session' || ['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return done();
  request.server.csrfProtection(request, reply, done);
}
