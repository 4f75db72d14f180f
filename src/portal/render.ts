import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MessageKey } from './i18n/messages.js';
import { navigationFor } from './navigation.js';

export interface PageOptions {
  /** The page's title (a message key): the document title and, by convention, the page's h1. */
  title: MessageKey;
  status?: number;
}

/**
 * Renders a page in the layout. Every template gets, besides `data`: `t` (texts), `lang`, `person`,
 * `nav` (the menu for the person), `csrfToken` (for every form's hidden `_csrf` field), `title`, `path`,
 * `date(d)` and `number(n)` (formatted for the language; times in Danish time).
 */
export function renderPage(request: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, o: PageOptions): FastifyReply {
  const path = request.url.split('?')[0]!;
  const context = {
    ...data,
    t: request.t,
    lang: request.language,
    person: request.person,
    nav: request.person ? navigationFor(request.server, request.person, path) : [],
    csrfToken: reply.generateCsrf(),
    title: request.t(o.title),
    path,
    date: (d: Date | string | null | undefined) => formatDate(request.language, d),
    number: (n: number | null | undefined) => (n === null || n === undefined ? '' : FORMATS[request.language].number.format(n)),
  };
  return reply
    .code(o.status ?? 200)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .view(view, context);
}

const LOCALES = { da: 'da-DK', en: 'en-GB' } as const;

/**
 * Made once per language: building an Intl formatter costs far more than formatting with it (a
 * new one for each number was a third of the Forbrug page's time for a few hundred rows).
 */
const FORMATS = Object.fromEntries(
  (['da', 'en'] as const).map((language) => [
    language,
    {
      number: new Intl.NumberFormat(LOCALES[language]),
      day: new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'medium', timeZone: 'UTC' }),
      moment: new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Copenhagen' }),
    },
  ]),
) as Record<'da' | 'en', { number: Intl.NumberFormat; day: Intl.DateTimeFormat; moment: Intl.DateTimeFormat }>;

function formatDate(language: 'da' | 'en', d: Date | string | null | undefined): string {
  if (d === null || d === undefined || d === '') return '';
  // A calendar day ('YYYY-MM-DD') stays a day; an instant shows with its time in Danish time.
  if (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d)) return FORMATS[language].day.format(new Date(`${d}T00:00:00Z`));
  return FORMATS[language].moment.format(new Date(d));
}
