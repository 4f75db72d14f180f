import type { FastifyInstance } from 'fastify';
import { AccountRefusedError, AccountUsageError } from '../../accounts/account-error.js';
import { EMAIL_MAX_LENGTH } from '../../accounts/account-limits.js';
import { findOpenLink, type LinkPurpose } from '../../accounts/account-links.js';
import { login, logout } from '../../accounts/login.js';
import { requestOwnReset, setUserLanguage } from '../../accounts/manage-user.js';
import { endSession } from '../../accounts/sessions.js';
import { setPasswordWithLink } from '../../accounts/set-password.js';
import { LANGUAGE_COOKIE, clearSessionCookie, setSessionCookie } from '../authenticate.js';
import { renderPage } from '../render.js';
import { badFields, doneQuery, formFields, pageSchema } from './page-kit.js';
import { safeLocalPath } from './safe-path.js';

const NOTICES = { password: 'login.passwordSet', logout: 'login.loggedOut', expired: 'login.expired' } as const;

const loginBody = {
  type: 'object',
  properties: { email: { type: 'string', maxLength: EMAIL_MAX_LENGTH }, password: { type: 'string', maxLength: 1024 }, next: { type: 'string', maxLength: 2000 }, _csrf: { type: 'string' } },
  required: ['email', 'password'],
} as const;

const loginQuery = { type: 'object', properties: { next: { type: 'string', maxLength: 2000 }, done: { type: 'string', maxLength: 20 } } } as const;
const languageBody = { type: 'object', properties: { ...formFields, language: { type: 'string', maxLength: 2 }, back: { type: 'string', maxLength: 2000 } } } as const;
const tokenParams = { type: 'object', properties: { token: { type: 'string', maxLength: 200 } }, required: ['token'] } as const;
const LABELS = { email: 'login.email', password: 'login.password', repeat: 'password.repeat' } as const;

const passwordBody = {
  type: 'object',
  properties: { password: { type: 'string', maxLength: 1024 }, repeat: { type: 'string', maxLength: 1024 }, _csrf: { type: 'string' } },
  required: ['password', 'repeat'],
} as const;

/** Log in, log out, the invitation and reset links (set a password), and the language switch. */
export async function accountPages(app: FastifyInstance): Promise<void> {
  const { pool, clock, config } = app.portal;
  // Self-service reset needs mail to deliver its link: without SMTP_URL there is none (admins send links).
  const forgot = Boolean(config.smtpUrl);

  app.get<{ Querystring: { next?: string; done?: string } }>('/login', pageSchema({ querystring: loginQuery }), async (request, reply) => {
    // A bad `next` or `done` is dropped: the page goes to the start page afterwards and says nothing.
    if (badFields(request).length > 0) request.query = {};
    if (request.person) return reply.redirect(safeLocalPath(request.query.next), 303);
    const done = request.query.done as keyof typeof NOTICES | undefined;
    const notice = done && done in NOTICES ? request.t(NOTICES[done]) : undefined;
    return renderPage(request, reply, 'login.eta', { next: safeLocalPath(request.query.next), email: '', notice, forgot }, { title: 'login.title' });
  });

  app.post<{ Body: { email: string; password: string; next?: string } }>(
    '/login',
    { ...pageSchema({ body: loginBody }), config: { rateLimit: app.authRateLimit } },
    async (request, reply) => {
      const problems = badFields(request, LABELS);
      const next = safeLocalPath(request.body?.next);
      if (problems.length > 0) {
        const typed = request.body?.email;
        return renderPage(request, reply, 'login.eta', { next, email: typeof typed === 'string' ? typed : '', error: problems.join(' '), forgot }, { title: 'login.title', status: 400 });
      }
      const { email, password } = request.body;
      const outcome = await login(pool, { email, password, address: request.ip }, clock);
      if (!outcome.ok) {
        const error = request.t(outcome.reason === 'locked' ? 'login.locked' : 'login.wrong');
        return renderPage(request, reply, 'login.eta', { next, email, error, forgot }, { title: 'login.title', status: outcome.reason === 'locked' ? 429 : 401 });
      }
      // A fresh session id at every login; a session the browser had before ends.
      if (request.sessionId) await endSession(pool, request.sessionId);
      setSessionCookie(app, reply, outcome.sessionId);
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', pageSchema({ body: { type: 'object', properties: formFields } }), async (request, reply) => {
    if (request.sessionId) await logout(pool, request.sessionId, request.ip);
    clearSessionCookie(app, reply);
    return reply.redirect('/login?done=logout', 303);
  });

  for (const purpose of ['invitation', 'reset'] as const satisfies readonly LinkPurpose[]) {
    const title = purpose === 'invitation' ? 'password.title.invitation' : 'password.title.reset';
    app.get<{ Params: { token: string } }>(`/${purpose}/:token`, pageSchema({ params: tokenParams }), async (request, reply) => {
      badFields(request);
      const link = await findOpenLink(pool, request.params.token, purpose, clock);
      return renderPage(request, reply, 'password.eta', { valid: Boolean(link), email: link?.email, action: request.url }, { title, status: link ? 200 : 404 });
    });
    app.post<{ Params: { token: string }; Body: { password: string; repeat: string } }>(
      `/${purpose}/:token`,
      { ...pageSchema({ params: tokenParams, body: passwordBody }), config: { rateLimit: app.authRateLimit } },
      async (request, reply) => {
        const problems = badFields(request, LABELS);
        const link = await findOpenLink(pool, request.params.token, purpose, clock);
        const again = (error: string, status = 400) =>
          renderPage(request, reply, 'password.eta', { valid: Boolean(link), email: link?.email, action: request.url, error }, { title, status: link ? status : 404 });
        if (!link) return again('');
        if (problems.length > 0) return again(problems.join(' '));
        if (request.body.password !== request.body.repeat) return again(request.t('password.mismatch'));
        try {
          await setPasswordWithLink(pool, request.params.token, purpose, request.body.password, clock);
        } catch (err) {
          if (err instanceof AccountUsageError || err instanceof AccountRefusedError) return again(request.t(`account.${err.code}`));
          throw err;
        }
        if (request.sessionId) await endSession(pool, request.sessionId);
        clearSessionCookie(app, reply);
        return reply.redirect('/login?done=password', 303);
      },
    );
  }

  if (forgot) {
    app.get('/forgot', pageSchema({ querystring: doneQuery }), async (request, reply) => renderPage(request, reply, 'forgot.eta', { sent: false }, { title: 'forgot.title' }));
    app.post<{ Body: { email: string } }>(
      '/forgot',
      { ...pageSchema({ body: { type: 'object', properties: { email: { type: 'string', maxLength: EMAIL_MAX_LENGTH }, ...formFields }, required: ['email'] } }), config: { rateLimit: app.authRateLimit } },
      async (request, reply) => {
        // A bad address is answered like any other: the page never says whether an account exists.
        if (badFields(request).length > 0) return renderPage(request, reply, 'forgot.eta', { sent: true }, { title: 'forgot.title' });
        // Answered before the work is done and the same for every address: neither the text nor the
        // time says whether the address has an account.
        void requestOwnReset(pool, request.body.email, { publicUrl: config.portalPublicUrl, clock }).catch((err: unknown) =>
          request.log.warn({ err }, 'a self-service password reset failed'),
        );
        return renderPage(request, reply, 'forgot.eta', { sent: true }, { title: 'forgot.title' });
      },
    );
  }

  app.post<{ Body: { language?: string; back?: string } }>('/language', pageSchema({ body: languageBody }), async (request, reply) => {
    // Anything but 'en' is Danish, and a bad `back` goes to the start page: the switch never fails.
    const language = request.body?.language === 'en' ? 'en' : 'da';
    if (request.person) await setUserLanguage(pool, request.person.id, language, request.person.email);
    reply.setCookie(LANGUAGE_COOKIE, language, { path: '/', sameSite: 'lax', httpOnly: true, secure: app.portal.secureCookies, maxAge: 365 * 86_400 });
    return reply.redirect(safeLocalPath(request.body?.back), 303);
  });
}
