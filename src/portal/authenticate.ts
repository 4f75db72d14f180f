import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { personOfApiToken } from '../accounts/api-tokens.js';
import { SESSION_MAX_MS, personOfSession } from '../accounts/sessions.js';
import { translator } from './i18n/messages.js';
import { Problem } from './problem.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './security.js';
import { shared } from './shared-plugin.js';

export { SESSION_COOKIE };
export const LANGUAGE_COOKIE = 'filudveksling_lang';

/**
 * Who is asking, on every request: a bearer token (API only) or the session cookie. Sets
 * `request.person` (null when anonymous) and the request's language and texts.
 */
export const authenticate = shared(async (app: FastifyInstance) => {
  const { pool, clock } = app.portal;
  app.decorateRequest('person', null);
  app.decorateRequest('authVia', null);
  app.decorateRequest('sessionId', null);
  app.decorateRequest('language', 'da');
  app.decorateRequest('t', null as never);
  app.addHook('onRequest', async (request) => {
    const cookieLanguage = request.cookies[LANGUAGE_COOKIE] === 'en' ? 'en' : 'da';
    request.language = cookieLanguage;
    request.t = translator(cookieLanguage);
    // No name, id or filter here holds a NUL (PostgreSQL cannot even compare one): refused before any query.
    if (/%00|\0/i.test(request.url)) throw new Problem(400, 'The address holds a NUL character (%00); remove it.');
    if (request.url.startsWith('/assets/')) return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      // A token only counts for the API; a wrong one is not silently replaced by a cookie.
      if (request.url.startsWith('/api/')) {
        request.person = (await personOfApiToken(pool, bearer)) ?? null;
        if (request.person) request.authVia = 'token';
      }
    } else {
      const sessionId = request.cookies[SESSION_COOKIE];
      if (sessionId) {
        request.person = (await personOfSession(pool, sessionId, clock)) ?? null;
        if (request.person) {
          request.authVia = 'session';
          request.sessionId = sessionId;
        }
      }
    }
    if (request.person) {
      request.language = request.person.language;
      request.t = translator(request.person.language);
    } else if (/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
      // An upload's body (up to 20 MiB) is read before the route's checks: only someone logged in may send one.
      throw new Problem(401, 'Log in before uploading a file.');
    }
  });
  // Nor any field of a body (JSON, form or multipart; a file's bytes may hold anything).
  app.addHook('preValidation', async (request) => {
    const field = nulField(request.body);
    if (field !== undefined) {
      const name = field.join('.') || 'body';
      throw new Problem(400, `The field '${name}' holds a NUL character (\\u0000); remove it.`, [{ pointer: `#/${field.join('/')}`, field: name, detail: 'holds a NUL character' }]);
    }
  });
});

/** The path of the first string in a body that holds a NUL character (a file's bytes are not looked at). */
function nulField(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
  for (const [key, v] of Object.entries(value)) {
    const found = nulField(v, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

export function setSessionCookie(app: FastifyInstance, reply: FastifyReply, sessionId: string): void {
  reply.setCookie(SESSION_COOKIE, sessionId, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: app.portal.secureCookies,
    maxAge: SESSION_MAX_MS / 1000,
  });
  clearCsrfSecret(app, reply);
}

export function clearSessionCookie(app: FastifyInstance, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: app.portal.secureCookies });
  clearCsrfSecret(app, reply);
}

/**
 * A session starts and ends with a new CSRF secret (the next page makes one): a secret someone got
 * into the browser before the login (a cookie set from a sibling domain, a shared computer) does not
 * carry over into the session, nor tokens copied from the pages before it.
 */
function clearCsrfSecret(app: FastifyInstance, reply: FastifyReply): void {
  reply.clearCookie(CSRF_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: app.portal.secureCookies, signed: true });
}

/** A page behind login: an anonymous visitor goes to the login page and comes back after. */
export async function requireLogin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.person) return;
  const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
  await reply.redirect(`/login${next}`, 303);
}
