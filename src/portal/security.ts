import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../errors.js';
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

/** Room for each part's boundary and headers (Content-Disposition with a file name, Content-Type). */
const PART_HEADERS = 4 * 1024;

/**
 * The most a multipart request may send in all: its file, its fields and their parts' headers
 * (21.4 MiB). @fastify/multipart reads the request itself and keeps no total (Fastify's bodyLimit
 * does not apply to it): a file over the limit is cut, but the rest of the body would be read and
 * dropped to its end, however long. A request that says it is bigger is refused before its body is
 * read; one that does not say (chunked) is cut off at this size. (HTTP itself ends a body at its
 * Content-Length: what a client sends past it is not the body.)
 */
export const MULTIPART_BODY_LIMIT = UPLOAD_LIMITS.fileSize * UPLOAD_LIMITS.files + UPLOAD_LIMITS.fields * UPLOAD_LIMITS.fieldSize + UPLOAD_LIMITS.parts * PART_HEADERS;

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
/** The session cookie (authenticate.ts sets and reads it). */
export const SESSION_COOKIE = 'filudveksling_session';
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
    // A token is bound to the session it was made in (render.ts passes the same): a secret planted in
    // the browser (a parent domain's cookie, which clearing at login cannot remove) signs nothing of a
    // session whose id the planter does not know.
    getUserInfo: csrfUserInfo,
    csrfOpts: { hmacKey: o.secret },
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
  // After onRequest (who is asking: an anonymous upload is refused there), before the body is read.
  app.addHook('preParsing', async (request, reply, payload) => {
    if (/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) capMultipart(request, reply);
    return payload;
  });
});

/**
 * A multipart request over MULTIPART_BODY_LIMIT is refused (413, `form-too-big`), and its connection
 * closed after the answer rather than its body read to the end (closeAfterAnswer): at once when its
 * Content-Length says so, else when its bytes pass the limit. @fastify/multipart pipes `request.raw`
 * into its parser in preValidation; the count listens beside that pipe (the request paused until
 * then, so no byte goes by uncounted), and past the limit the request's 'error' ends the parser's
 * iteration with the refusal (the route is never called, nothing is stored).
 */
function capMultipart(request: FastifyRequest, reply: FastifyReply): void {
  const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
  if (declared !== undefined && declared > MULTIPART_BODY_LIMIT) {
    closeAfterAnswer(reply);
    throw formTooBig(declared);
  }
  const raw = request.raw;
  let seen = 0;
  raw.pause();
  raw.on('data', function count(chunk: Buffer) {
    seen += chunk.length;
    if (seen <= MULTIPART_BODY_LIMIT) return;
    raw.removeListener('data', count);
    closeAfterAnswer(reply);
    raw.emit('error', formTooBig());
  });
}

/** How long the connection of a refused upload stays open after the answer, for the client to read it. */
const LINGER_MS = 2000;

/**
 * The connection of an upload refused before its body was read is closed after the answer
 * (`Connection: close`), but not outright: Node would close it at once, and closing with bytes
 * still unread resets the connection, so that the client (a browser too) may lose the answer and
 * see only "connection reset". Instead the portal stops writing (FIN) and drops what still comes
 * for LINGER_MS, time for the client to read the answer and stop sending, then closes.
 */
function closeAfterAnswer(reply: FastifyReply): void {
  void reply.header('connection', 'close');
  const socket = reply.raw.socket;
  if (!socket) return;
  // Node calls destroySoon once the answer with `Connection: close` is written.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/** The refusal of a form bigger than the portal takes: its size when it said it, and the file limit. */
function formTooBig(size?: number): UsageError {
  const what = size === undefined ? 'is larger' : `is ${Math.ceil(size / (1024 * 1024))} MiB, larger`;
  return new UsageError(`The form ${what} than the portal takes; a file may be at most 20 MiB. Choose a smaller file.`, {
    code: 'form-too-big',
    values: size === undefined ? {} : { size },
  });
}

/**
 * What a CSRF token is bound to: the session cookie as the browser sends it (httpOnly, never shown),
 * or no session (the library refuses ''). The cookie, not the live session: a form of a session that
 * has since ended (logout after the idle timeout) is still the browser's own, and goes on to the
 * route, which sends it to the login page.
 */
export function csrfUserInfo(request: FastifyRequest): string {
  const session = request.cookies[SESSION_COOKIE];
  return session ? `session ${session}` : 'no session';
}

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
