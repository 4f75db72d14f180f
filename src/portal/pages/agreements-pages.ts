import type { FastifyInstance } from 'fastify';
import { AGREEMENT_STATES, ALL_MUNICIPALITIES, changeAgreement, findAgreement, listAgreements, requestAgreements, type AgreementRow } from '../../agreements/agreements.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import type { Pool } from '../../db/pool.js';
import { listSystems } from '../../systems/list-systems.js';
import { doneKey, field, fields, isAuthority, isVendor, NotFoundPage, personOf, problemOf, redirectDone, renderPage, scopeOf, type Person } from './page-kit.js';

/**
 * Serviceaftaler (SPEC §11): the vendor asks an authority (or all municipalities) to let a system
 * use the send or fetch service, and may withdraw a request still pending; the authority's
 * data-responsible approves, rejects with a reason, or terminates from a day. Each action is the
 * same domain function the CLI's `agreement …` calls, with the person's e-mail as `by`.
 */
const DONE = ['requested', 'approved', 'rejected', 'terminated', 'withdrawn'] as const;
const STATUSES: readonly string[] = AGREEMENT_STATES;

export async function agreementsPages(app: FastifyInstance, opts: { pool: Pool }): Promise<void> {
  const { pool } = opts;

  app.get('/serviceaftaler', async (request, reply) => {
    const person = personOf(request);
    const q = request.query as Record<string, string | undefined>;
    const status = STATUSES.includes(q.status ?? '') ? q.status : undefined;
    const rows = await listAgreements(pool, { ...scopeFilter(person), status });
    return renderPage(request, reply, 'agreements', { rows, status, statuses: STATUSES, done: doneKey(request, DONE), canRequest: person.role === 'vendor-admin' });
  });

  app.get('/serviceaftaler/ny', async (request, reply) => {
    const person = personOf(request);
    if (person.role !== 'vendor-admin') throw new NotFoundPage();
    return renderPage(request, reply, 'agreement-request', await requestForm(pool, person, {}));
  });

  app.post('/serviceaftaler/ny', async (request, reply) => {
    const person = personOf(request);
    if (person.role !== 'vendor-admin') throw new NotFoundPage();
    const input = { system: field(request.body, 'system'), service: field(request.body, 'service'), authorities: fields(request.body, 'authorities'), all: field(request.body, 'all') === 'yes' };
    const form = await requestForm(pool, person, input);
    if (!form.systems.some((s) => s.username === input.system)) return renderPage(request, reply, 'agreement-request', { ...form, problemKey: 'agreements.problem.system' }, 400);
    if (!input.all && input.authorities.length === 0) return renderPage(request, reply, 'agreement-request', { ...form, problemKey: 'agreements.problem.authorities' }, 400);
    try {
      await requestAgreements(pool, { system: input.system, service: input.service, authorities: input.all ? ALL_MUNICIPALITIES : input.authorities }, person.email);
    } catch (err) {
      return renderPage(request, reply, 'agreement-request', { ...form, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, '/serviceaftaler', 'requested');
  });

  app.get<{ Params: { id: string } }>('/serviceaftaler/:id', async (request, reply) => {
    const person = personOf(request);
    const agreement = await visibleAgreement(pool, person, request.params.id);
    return renderPage(request, reply, 'agreement', { a: agreement, actions: actionsFor(person, agreement), done: doneKey(request, DONE), today: today() });
  });

  for (const action of ['approve', 'reject', 'terminate', 'withdraw'] as const) {
    app.post<{ Params: { id: string } }>(`/serviceaftaler/:id/${action}`, async (request, reply) => {
      const person = personOf(request);
      const agreement = await visibleAgreement(pool, person, request.params.id);
      if (!actionsFor(person, agreement).includes(action)) throw new NotFoundPage();
      const reason = field(request.body, 'reason');
      const effective = action === 'terminate' ? field(request.body, 'effective') || undefined : undefined;
      try {
        if ((action === 'reject' || action === 'terminate') && !reason) throw new ReasonMissing();
        await changeAgreement(pool, agreement.id, action, { reason: reason || undefined, effective }, person.email);
      } catch (err) {
        const problem = err instanceof ReasonMissing ? undefined : problemOf(err);
        const fresh = (await findAgreement(pool, agreement.id))!;
        return renderPage(request, reply, 'agreement', { a: fresh, actions: actionsFor(person, fresh), problem, problemKey: problem ? undefined : 'agreements.problem.reason', today: today() }, problem ? 409 : 400);
      }
      return redirectDone(reply, `/serviceaftaler/${agreement.id}`, { approve: 'approved', reject: 'rejected', terminate: 'terminated', withdraw: 'withdrawn' }[action]);
    });
  }
}

class ReasonMissing extends Error {}

/** What this person may do to this agreement now (the buttons shown and the actions accepted). */
function actionsFor(person: Person, a: AgreementRow): string[] {
  if (person.role === 'vendor-admin' || person.role === 'operator') {
    if (a.status === 'requested' && person.role === 'vendor-admin') return ['withdraw'];
  }
  if (person.role === 'authority-admin' || person.role === 'operator') {
    if (a.status === 'requested') return person.role === 'operator' ? ['approve', 'reject', 'withdraw'] : ['approve', 'reject'];
    if (a.status === 'approved') return ['terminate'];
  }
  return [];
}

/** The list filter that keeps a person to its scope (SPEC §11: a vendor's systems, an authority's agreements). */
function scopeFilter(person: Person): { vendorId?: number; authorityId?: number } {
  const scope = scopeOf(person);
  return scope.kind === 'vendor' ? { vendorId: scope.vendorId } : scope.kind === 'authority' ? { authorityId: scope.authorityId } : {};
}

/** The agreement if the person may see it; 404 for any other id, as if it did not exist. */
async function visibleAgreement(pool: Pool, person: Person, idText: string): Promise<AgreementRow> {
  if (!/^[1-9][0-9]{0,9}$/.test(idText)) throw new NotFoundPage();
  const found = await findAgreement(pool, Number(idText));
  const scope = scopeOf(person);
  if (!found || (scope.kind === 'vendor' && found.vendorId !== scope.vendorId) || (scope.kind === 'authority' && found.authorityId !== scope.authorityId)) throw new NotFoundPage();
  return found;
}

async function requestForm(pool: Pool, person: Person, chosen: { system?: string; service?: string; authorities?: string[]; all?: boolean }) {
  const systems = isVendor(person) ? await listSystems(pool, { vendor: person.vendor }) : [];
  const authorities = isAuthority(person) ? [] : await listAuthorities(pool);
  return { systems, authorities, chosen: { service: 'send', authorities: [], ...chosen }, allMunicipalities: ALL_MUNICIPALITIES };
}

function today(): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' }).format(new Date());
}
