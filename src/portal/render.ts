import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatsFor } from './formats.js';
import type { MessageKey } from './i18n/messages.js';
import { navigationFor } from './navigation.js';
import { csrfUserInfo } from './security.js';

export interface PageOptions {
  /** The page's title (a message key): the document title and, by convention, the page's h1. */
  title: MessageKey;
  status?: number;
}

/**
 * Renders a page in the layout. Every template gets, besides `data`: `t` (texts), `lang`, `person`,
 * `nav` (the menu for the person), `csrfToken` (for every form's hidden `_csrf` field), `title`, `path`,
 * and the language's formats (formats.ts: `date(d)`, `dateTime(d)`, `number(n)`, `bytes(n)`, `dkk(ore)`,
 * `duration(s)`; in Danish time) — the one formatter, so a page cannot write a date two ways.
 */
export function renderPage(request: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, o: PageOptions): FastifyReply {
  const path = request.url.split('?')[0]!;
  const context = {
    ...formatsFor(request.language),
    ...data,
    t: request.t,
    lang: request.language,
    person: request.person,
    nav: request.person ? navigationFor(request.server, request.person, path) : [],
    csrfToken: reply.generateCsrf({ userInfo: csrfUserInfo(request) }),
    title: request.t(o.title),
    path,
  };
  return reply
    .code(o.status ?? 200)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .view(view, context);
}
