import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { shared } from './shared-plugin.js';

export interface RateLimits {
  /** Requests per minute per address, all routes. */
  perMinute: number;
  /** Requests per minute per address to login, invitation and reset forms (on top of the per-account lockout). */
  authPerMinute: number;
}

const DEFAULT_RATE_LIMITS: RateLimits = { perMinute: 1200, authPerMinute: 60 };

/** Uploads: a GDPR declaration document may have up to 20 MiB (SPEC §11); one file per request. */
export const UPLOAD_LIMITS = { fileSize: 20 * 1024 * 1024, files: 1, fields: 20, parts: 25, fieldSize: 64 * 1024 };

/** A file of a multipart form, as the route's body carries it (`request.body.document`). */
export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/**
 * A file over UPLOAD_LIMITS.fileSize, as the route's body carries it instead of an UploadedFile: the
 * bytes past the limit were never read and the rest were dropped, so only what the browser said of
 * the file is known — not its size. No `data`: nothing can take it for a file. The route refuses it
 * in its own words (413, naming the file and the limit), on its page with the form's other fields.
 */
export interface OversizedFile {
  filename: string;
  mimetype: string;
  oversized: true;
}

export function isOversized(v: unknown): v is OversizedFile {
  return typeof v === 'object' && v !== null && (v as OversizedFile).oversized === true && typeof (v as OversizedFile).filename === 'string';
}

/** The JSON Schema of a file field in a multipart body (`consumes: ['multipart/form-data']`). */
export const uploadedFileSchema = { type: 'object', description: 'a file (multipart/form-data)' } as const;

/** The name of the header a cookie-authenticated API write carries its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** The cookie holding the CSRF secret (signed); a new one comes with every new session (authenticate.ts). */
export const CSRF_COOKIE = 'filudveksling_csrf';

/**
 * Headers, cookies, forms, CSRF, rate limits and uploads, for every route. CSP allows this origin
 * only and no framing; no referrer leaves the portal (invitation links carry their token in the path).
 */
export const security = shared(async (app: FastifyInstance, o: { secret: string; rateLimits?: Partial<RateLimits> }) => {
  const secure = app.portal.secureCookies;
  const limits = { ...DEFAULT_RATE_LIMITS, ...o.rateLimits };
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over https; over http (development) browsers ignore it anyway.
    hsts: secure ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyCookie, { secret: o.secret });
  await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure, signed: true },
    getToken: csrfTokenOf,
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: limits.perMinute,
    timeWindow: 60_000,
    // The auth routes carry `config: { rateLimit: authRateLimit(app) }` for their stricter limit.
  });
  app.decorate('authRateLimit', { max: limits.authPerMinute, timeWindow: 60_000 });
  // Multipart forms arrive as a body like any form (so `_csrf` and the JSON Schema work as for the
  // others); a file field is an UploadedFile. Limits above: a bigger file is cut at the limit and
  // arrives as an OversizedFile, for the route to refuse naming it (the library's own 413 says
  // nothing of which file or what to do, and loses the form).
  await app.register(fastifyMultipart, {
    limits: UPLOAD_LIMITS,
    throwFileSizeLimit: false,
    attachFieldsToBody: 'keyValues',
    async onFile(part) {
      const data = await part.toBuffer();
      const file: UploadedFile | OversizedFile = part.file.truncated ? { filename: part.filename, mimetype: part.mimetype, oversized: true } : { filename: part.filename, mimetype: part.mimetype, data };
      (part as unknown as { value: UploadedFile | OversizedFile }).value = file;
    },
  });
});

/** The X-CSRF-Token header, or a form's `_csrf` field (urlencoded or multipart). */
function csrfTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = request.body as { _csrf?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body._csrf === 'string') return body._csrf;
  return undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The stricter rate limit of login, invitation and reset: `config: { rateLimit: app.authRateLimit }`. */
    authRateLimit: { max: number; timeWindow: number };
  }
}
