import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AGREEMENT_STATES, ALL_MUNICIPALITIES, REASON_MAX_LENGTH, changeAgreement, findAgreement, listAgreements, requestAgreements, type AgreementRow } from '../../agreements/agreements.js';
import { danishDay } from '../../agreements/danish-day.js';
import type { AuthorityRow } from '../../authority/find-authority.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import { authorityLabel, requireAuthority } from '../../authority/require-authority.js';
import type { Pool } from '../../db/pool.js';
import { RefusedError, UsageError } from '../../errors.js';
import { findSystemByUsername } from '../../systems/find-system.js';
import { listSystems } from '../../systems/list-systems.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { Problem } from '../problem.js';
import { badFields, choice, day, doneKey, doneQuery, field, fields, formFields, idParam, pageOf, pageSchema, paging, problemOf, redirectDone, renderPage, scopeFilter, text, type Person } from './page-kit.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';

/**
 * Serviceaftaler (SPEC §11): the vendor asks one or more authorities (or all municipalities) to let
 * a system use the send or fetch service, and may withdraw a request still pending; the
 * authority's data-responsible approves, rejects with a reason, or terminates from a day. Each
 * action is the domain function the CLI's `agreement …` calls, with the person's e-mail as `by`.
 */
const DONE = ['requested', 'approve', 'reject', 'terminate', 'withdraw'] as const;
const ACTIONS = ['approve', 'reject', 'terminate', 'withdraw'] as const;
type Action = (typeof ACTIONS)[number];

/** The fields as the pages name them, for a bad value's message. */
const LABELS = {
  status: 'agreements.field.status',
  system: 'agreements.col.system',
  authority: 'agreements.col.authority',
  service: 'agreements.col.service',
  authorities: 'agreements.field.authorities',
  all: 'agreements.field.all',
  reason: 'agreements.reason',
  effective: 'agreements.effective',
  after: 'common.next',
} as const;

/**
 * The list's filters, as the API's `GET /agreements` has them: status, system (user name) and
 * authority (kommunekode or CVR; whether it is one, and exists, is the domain's check, named on the page).
 */
const listQuery = {
  type: 'object',
  properties: { status: choice(AGREEMENT_STATES), system: text(USERNAME_MAX_LENGTH), authority: text(100), done: text(40), after: { type: 'string', pattern: '^$|^[1-9][0-9]{0,8}$' } },
} as const;
/** Agreements a page shows (oldest first; the next page starts after the last id shown). */
const PAGE_SIZE = 100;
const idParams = { type: 'object', properties: { id: idParam }, required: ['id'] } as const;
const requestBody = {
  type: 'object',
  properties: {
    ...formFields,
    system: text(USERNAME_MAX_LENGTH),
    service: choice(['send', 'fetch']),
    authorities: { type: 'array', items: text(12), maxItems: 200 },
    all: choice(['yes']),
  },
} as const;
const actionBody = { type: 'object', properties: { ...formFields, reason: text(REASON_MAX_LENGTH), effective: day } } as const;

export async function agreementsPages(app: FastifyInstance): Promise<void> {
  // Today (the date field's default and least day, and the termination's check) is the portal's clock's.
  const { pool, clock } = app.portal;

  app.get<{ Querystring: { status?: string; system?: string; authority?: string; after?: string } }>('/agreements', { preHandler: requireLogin, ...pageSchema({ querystring: listQuery }) }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'read');
    const problems = badFields(request, LABELS);
    const status = (AGREEMENT_STATES as readonly string[]).includes(request.query.status ?? '') ? request.query.status : undefined;
    const { filter, choices, typed } = await filtersOf(pool, request, person, problems);
    // A bad value is named above the filters, and the list starts from the first page.
    const after = problems.length === 0 && request.query.after ? Number(request.query.after) : undefined;
    const found = await listAgreements(pool, { ...scopeFilter(person), ...filter, status, after, limit: PAGE_SIZE + 1 });
    const { rows, nextAfter } = pageOf(found, PAGE_SIZE);
    return renderPage(request, reply, 'agreements', 'agreements.title', {
      rows,
      status,
      typed,
      ...choices,
      // The next page and the first keep the filters that hold.
      paging: paging('/agreements', { query: { status, ...filter }, after, nextAfter }),
      problems,
      statuses: AGREEMENT_STATES,
      done: doneKey(request, DONE),
      canRequest: can(person, 'agreement.request') === 'allowed',
    }, problems.length > 0 ? 400 : 200);
  });

  app.get('/agreements/new', { preHandler: requireLogin, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    const person = requester(personOf(request));
    return renderPage(request, reply, 'agreement-request', 'agreements.request', await requestForm(pool, person, {}));
  });

  app.post('/agreements/new', { preHandler: requireLogin, ...pageSchema({ body: requestBody }) }, async (request, reply) => {
    const person = requester(personOf(request));
    const input = { system: field(request.body, 'system'), service: field(request.body, 'service'), authorities: fields(request.body, 'authorities'), all: field(request.body, 'all') === 'yes' };
    const form = await requestForm(pool, person, input);
    const again = (extra: Record<string, unknown>, status: number) => renderPage(request, reply, 'agreement-request', 'agreements.request', { ...form, ...extra }, status);
    const problems = badFields(request, LABELS);
    if (problems.length > 0) return again({ problems }, 400);
    if (!form.systems.some((s) => s.username === input.system)) return again({ problemKey: 'agreements.problem.system' }, 400);
    if (!input.all && input.authorities.length === 0) return again({ problemKey: 'agreements.problem.authorities' }, 400);
    try {
      await requestAgreements(pool, { system: input.system, service: input.service, authorities: input.all ? ALL_MUNICIPALITIES : input.authorities }, person.email);
    } catch (err) {
      const { problem, status } = problemOf(request, err);
      return again({ problem }, status);
    }
    return redirectDone(reply, '/agreements', 'requested');
  });

  app.get<{ Params: { id: string } }>('/agreements/:id', { preHandler: requireLogin, ...pageSchema({ params: idParams }) }, async (request, reply) => {
    badFields(request);
    const person = personOf(request);
    const agreement = await visibleAgreement(pool, person, request.params.id);
    return renderPage(request, reply, 'agreement', 'agreements.title', { a: agreement, actions: actionsFor(person, agreement), done: doneKey(request, DONE), today: danishDay(clock()) });
  });

  for (const action of ACTIONS) {
    app.post<{ Params: { id: string } }>(`/agreements/:id/${action}`, { preHandler: requireLogin, ...pageSchema({ params: idParams, body: actionBody }) }, async (request, reply) => {
      const person = personOf(request);
      const problems = badFields(request, LABELS);
      const agreement = await visibleAgreement(pool, person, request.params.id);
      authorize(person, action === 'withdraw' ? 'agreement.request' : 'agreement.decide', owners(agreement));
      const reason = field(request.body, 'reason');
      const effective = action === 'terminate' ? field(request.body, 'effective') || undefined : undefined;
      const again = async (extra: Record<string, unknown>, status: number) => {
        const fresh = (await findAgreement(pool, agreement.id))!;
        // What was typed stays in the form it was typed in (reason, effective day).
        const typed = { action, reason, effective: field(request.body, 'effective') };
        return renderPage(request, reply, 'agreement', 'agreements.title', { a: fresh, actions: actionsFor(person, fresh), today: danishDay(clock()), typed, ...extra }, status);
      };
      if (problems.length > 0) return again({ problems }, 400);
      if ((action === 'reject' || action === 'terminate') && !reason) return again({ problemKey: 'agreements.problem.reason' }, 400);
      try {
        await changeAgreement(pool, agreement.id, action, { reason: reason || undefined, effective, now: clock() }, person.email);
      } catch (err) {
        const { problem, status } = problemOf(request, err);
        return again({ problem }, status);
      }
      return redirectDone(reply, `/agreements/${agreement.id}`, action);
    });
  }
}

const owners = (a: AgreementRow) => ({ vendorId: a.vendorId, authorityId: a.authorityId });

/** Requesting is a vendor-admin's (for its own systems) or an operator's (for any); an authority's never. */
function requester(person: Person): Person {
  authorize(person, 'agreement.request');
  return person;
}

/** The buttons shown on an agreement: what the person may do to it in its present state. */
function actionsFor(person: Person, a: AgreementRow): Action[] {
  const allowed = (action: Action) => can(person, action === 'withdraw' ? 'agreement.request' : 'agreement.decide', owners(a)) === 'allowed';
  const byState: Record<string, Action[]> = { requested: ['approve', 'reject', 'withdraw'], approved: ['terminate'] };
  // An authority decides; a vendor withdraws its own request; an operator may do either.
  return (byState[a.status] ?? []).filter(allowed).filter((action) => (action === 'withdraw' ? !person.authority : !person.vendor));
}

/** The agreement if the person may see it; 404 for any other id, as if it did not exist. */
async function visibleAgreement(pool: Pool, person: Person, idText: string): Promise<AgreementRow> {
  const found = /^[1-9][0-9]{0,8}$/.test(idText) ? await findAgreement(pool, Number(idText)) : undefined;
  if (!found) throw new Problem(404, 'No such agreement.');
  authorize(person, 'read', owners(found));
  return found;
}

/**
 * The list's system and authority filters as the person may use them, the same as the API's
 * `GET /agreements` shows: a vendor picks among its own systems, and another vendor's system is
 * answered as one that does not exist; an authority's people type the user name of a system whose
 * agreements with their authority they see (any other is unknown to them, as in the API, where
 * both list nothing); operators type any system's. Vendors and operators pick an authority from
 * the list (about a hundred, as on Forbrug); an authority's people see only their own, so they have
 * no such field (a value in the query is still applied, as the API applies it). Each bad value is
 * added to `problems` naming it, and left out of the filter.
 */
async function filtersOf(pool: Pool, request: FastifyRequest<{ Querystring: { system?: string; authority?: string } }>, person: Person, problems: string[]) {
  const t = request.t;
  // A value given twice (?system=a&system=b) is a list, refused by the schema and named by badFields: no filter.
  const given = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : undefined);
  const systemText = given(request.query.system);
  const authorityText = given(request.query.authority);
  const [systems, authorities] = await Promise.all([
    person.vendor ? listSystems(pool, { vendorId: person.vendor.id }) : undefined,
    person.authority ? undefined : listAuthorities(pool),
  ]);
  const filter: { system?: string; authority?: string } = {};
  if (systemText !== undefined && systemText.length <= USERNAME_MAX_LENGTH) {
    if (await seesSystem(pool, person, systemText, systems)) filter.system = systemText;
    else problems.push(t(systems ? 'agreements.bad.system.own' : 'agreements.bad.system', { value: systemText }));
  }
  if (authorityText !== undefined && authorityText.length <= 100) {
    const found = await knownAuthority(pool, authorityText);
    if (typeof found === 'object') filter.authority = authorityRef(found);
    else problems.push(t(found === 'malformed' ? 'agreements.bad.authority' : 'agreements.bad.authority.unknown', { value: authorityText }));
  }
  return {
    filter,
    choices: {
      systemChoices: systems?.map((s) => s.username),
      authorityChoices: authorities?.flatMap((a) => (authorityRef(a) ? [{ value: authorityRef(a), label: authorityLabel(a) }] : [])),
    },
    // What the form shows: the filter as it holds; a typed system name even when refused, to be mended.
    typed: { system: systems ? (filter.system ?? '') : (systemText ?? ''), authority: filter.authority ?? '' },
  };
}

/** Whether the person may know of the system: a vendor its own, an authority's people one with an agreement naming their authority, operators any. */
async function seesSystem(pool: Pool, person: Person, username: string, own: Array<{ username: string }> | undefined): Promise<boolean> {
  if (own) return own.some((s) => s.username === username);
  if (!(await findSystemByUsername(pool, username))) return false;
  const scope = scopeFilter(person);
  return scope.authorityId === undefined || (await listAgreements(pool, { ...scope, system: username, limit: 1 })).length > 0;
}

/** The authority of a kommunekode or CVR (the domain's parse and look-up, as `listAgreements` does), or why there is none. */
async function knownAuthority(pool: Pool, text: string): Promise<AuthorityRow | 'malformed' | 'unknown'> {
  try {
    return await requireAuthority(pool, text);
  } catch (err) {
    if (err instanceof UsageError && err.code === 'authority-invalid') return 'malformed';
    if (err instanceof UsageError || err instanceof RefusedError) return 'unknown';
    throw err;
  }
}

/** How the filter names an authority: its kommunekode, else its CVR. */
const authorityRef = (a: Pick<AuthorityRow, 'kommunekode' | 'cvr'>): string => a.kommunekode ?? a.cvr ?? '';

async function requestForm(pool: Pool, person: Person, chosen: { system?: string; service?: string; authorities?: string[]; all?: boolean }) {
  const [systems, authorities] = await Promise.all([listSystems(pool, { vendorId: person.vendor?.id }), listAuthorities(pool)]);
  // An operator chooses among every vendor's systems, so each is named with its vendor.
  return { systems, authorities, withVendor: !person.vendor, chosen: { service: 'send', authorities: [], ...chosen } };
}
