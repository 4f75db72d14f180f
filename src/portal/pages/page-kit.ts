import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { Person } from '../../accounts/person.js';
import { RefusedError, UsageError } from '../../errors.js';
import { dayPattern, isRealDay } from '../api/api-kit.js';
import { scopeOf, type Scope } from '../can.js';
import type { MessageKey } from '../i18n/messages.js';
import { Problem } from '../problem.js';
import { refusalStatus, refusalText, withoutCliHints } from '../refusals.js';
import { renderPage as renderInLayout } from '../render.js';

/**
 * What the pages of SPEC §11's table share: the outcome of an action shown after a redirect, a
 * refusal shown above the form it came from, form fields, and the page rendered in the portal's
 * layout with the formats of the person's language.
 */
export type { Person, Scope };
export { scopeOf };

/** The list filter that keeps a person to its scope (a vendor's, an authority's, or everything). */
export function scopeFilter(person: Person): { vendorId?: number; authorityId?: number } {
  const scope = scopeOf(person);
  return 'vendorId' in scope ? { vendorId: scope.vendorId } : 'authorityId' in scope ? { authorityId: scope.authorityId } : {};
}

/** A refusal as a page shows it: in the person's words, and the domain's English when there are none. */
export interface Shown {
  text: string;
  /** The domain's own English (without the CLI's hints), when the catalogue has no words for it. */
  detail?: string;
}

/**
 * A refusal from a domain function (unknown name, wrong state, bad value) becomes the `problem`
 * shown above the form, in the catalogue's words (refusals.ts), with the status the API would
 * answer; anything else is a real fault and goes on to the portal's error handler.
 */
export function problemOf(request: FastifyRequest, err: unknown): { problem: Shown; status: number } {
  if (!(err instanceof UsageError || err instanceof RefusedError)) throw err;
  const status = refusalStatus(err, err instanceof UsageError ? 400 : 409);
  const text = refusalText(request.language, err);
  if (text !== undefined) return { problem: { text }, status };
  const english = withoutCliHints(err.message);
  return { problem: request.language === 'en' ? { text: english } : { text: request.t('common.refused'), detail: english }, status };
}

/**
 * A page route's JSON Schemas (params, querystring, body), compiled by ajv as the API's are. A bad
 * value does not end in a bare 400: the handler runs with `request.validationError` set and shows
 * its page again with each bad field named (`badFields`) and everything typed still in the form.
 */
export function pageSchema(schema: FastifySchema): { schema: FastifySchema; attachValidation: true } {
  return { schema, attachValidation: true };
}

/** Schemas of page fields: a form's text, a day, an id in the path, a choice. */
export const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
/** A day as a date field sends it (YYYY-MM-DD), or nothing (an empty field). */
const dayOrEmpty = `^$|${dayPattern}`;
export const day = { type: 'string', pattern: dayOrEmpty } as const;
/** An amount in kroner as people type it (12,50 or 12.50, at most two decimals; prices.ts's parseDkk), or nothing. */
const dkkOrEmpty = '^$|^[0-9]{1,12}([.,][0-9]{1,2})?$';
export const dkk = { type: 'string', pattern: dkkOrEmpty } as const;
export { isRealDay };
export const idParam = { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } as const;
export const choice = (values: readonly string[]) => ({ type: 'string', enum: ['', ...values] }) as const;
/** A page's own query: only the `done` of a redirect after an action (doneKey keeps it to the page's keys). */
export const doneQuery = { type: 'object', properties: { done: { type: 'string', maxLength: 40 } } } as const;
/** Every form carries its CSRF token; a submit button may carry its name. */
export const formFields = { _csrf: { type: 'string' } } as const;

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

/**
 * Each bad field of the request in the person's words, naming the field (its label on the page) and
 * the value given; [] when all is well. A bad value in the path is a page that does not exist (404),
 * as an unknown id is.
 */
export function badFields(request: FastifyRequest, labels: Readonly<Record<string, MessageKey>> = {}): string[] {
  const err = request.validationError as (Error & { validation?: AjvIssue[]; validationContext?: string }) | undefined;
  if (!err?.validation) return [];
  if (err.validationContext === 'params') throw new Problem(404, 'No such page.');
  const given = ((err.validationContext === 'querystring' ? request.query : request.body) ?? {}) as Record<string, unknown>;
  const said = new Map<string, string>();
  for (const v of err.validation) {
    const name = String(v.params.missingProperty ?? v.instancePath.split('/').filter(Boolean)[0] ?? '');
    if (said.has(name)) continue;
    const raw = given[name];
    const value = (Array.isArray(raw) ? raw.map(valueShown).filter(Boolean).join(', ') : valueShown(raw)).slice(0, 100);
    const label = labels[name] ? request.t(labels[name]) : name;
    said.set(name, sayBad(request, v, label, value, raw));
  }
  return [...said.values()];
}

/** A value as a bad field's message names it: a text as it is, a file (a field given twice in a multipart form) by its name. */
function valueShown(v: unknown): string {
  if (typeof v === 'string') return v;
  const filename = typeof v === 'object' && v !== null ? (v as { filename?: unknown }).filename : undefined;
  return typeof filename === 'string' ? filename : '';
}

function sayBad(request: FastifyRequest, v: AjvIssue, label: string, value: string, raw: unknown): string {
  const t = request.t;
  if (v.keyword === 'required') return t('form.bad.required', { label });
  if (v.keyword === 'maxLength') return t('form.bad.maxLength', { label, limit: Number(v.params.limit), length: typeof raw === 'string' ? raw.length : 0 });
  if (v.keyword === 'maxItems') return t('form.bad.maxItems', { label, limit: Number(v.params.limit) });
  if (v.keyword === 'enum') return t('form.bad.enum', { label, value });
  if (v.params.pattern === dayOrEmpty) return t('form.bad.day', { label, value });
  if (v.params.pattern === dkkOrEmpty) return t('form.bad.dkk', { label, value });
  return t('form.bad', { label, value });
}

/**
 * A page of a keyset list read with one row more than it shows (`limit: size + 1`): the rows shown,
 * and the id to go on after when that extra row came (for `paging`'s `nextAfter`).
 */
export function pageOf<T extends { id: string | number }>(found: T[], size: number): { rows: T[]; nextAfter: T['id'] | undefined } {
  const rows = found.slice(0, size);
  return { rows, nextAfter: found.length > size ? rows.at(-1)!.id : undefined };
}

/** A list page's paging links: to its first page and to the next (either may be missing). */
export interface Paging {
  first?: string;
  next?: string;
}

/**
 * The paging of a list page (keyset, as the API's: `?after=` the last row shown): a link to the next
 * page when there is one, and back to the first when this page is not it (`after` given). `query` is
 * the list's filter, kept on both links.
 * Undefined when there is nothing to page to: the partial pages/paging.eta then shows no <nav> at all.
 */
export function paging(
  path: string,
  o: { query?: Record<string, string | undefined>; after: unknown; nextAfter: string | number | undefined },
): Paging | undefined {
  const href = (query: Record<string, string | undefined>) => {
    const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return search ? `${path}?${search}` : path;
  };
  const query = o.query ?? {};
  const first = o.after !== undefined ? href(query) : undefined;
  const next = o.nextAfter !== undefined ? href({ ...query, after: String(o.nextAfter) }) : undefined;
  return first !== undefined || next !== undefined ? { first, next } : undefined;
}

/** After a successful action: back to a page (303), with a catalogue key saying what was done. */
export function redirectDone(reply: FastifyReply, path: string, done: string): FastifyReply {
  const sep = path.includes('?') ? '&' : '?';
  return reply.redirect(`${path}${sep}done=${encodeURIComponent(done)}`, 303);
}

/** The `done` key of a redirect, only if it is one of the page's (never text from the query shown as is). */
export function doneKey(request: FastifyRequest, allowed: readonly string[]): string | undefined {
  const done = (request.query as Record<string, unknown>).done;
  return typeof done === 'string' && allowed.includes(done) ? done : undefined;
}

/** A form field as one trimmed string ('' when missing). */
export function field(body: unknown, name: string): string {
  return fields(body, name)[0] ?? '';
}

/** A form field that may repeat (a multiple select, several checkboxes). */
export function fields(body: unknown, name: string): string[] {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter(Boolean);
}

/**
 * Renders one of the pages' views (views/pages/<view>.eta) in the layout. `data` holds values
 * only; texts come from the catalogue (`it.t`), dates and sizes through `it.date`, `it.bytes`…
 */
export function renderPage(request: FastifyRequest, reply: FastifyReply, view: string, title: MessageKey, data: Record<string, unknown>, status = 200): FastifyReply {
  return renderInLayout(request, reply, `pages/${view}.eta`, data, { title, status });
}
