import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listPrices, setPrice, type PriceInput } from '../../prices/prices.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import type { MessageKey } from '../i18n/messages.js';
import { badFields, choice, day, dkk, doneKey, doneQuery, field, formFields, pageSchema, problemOf, redirectDone, renderPage, type Shown } from './page-kit.js';

/**
 * Priser (SPEC §11 "operator … prices", §13): every price, and a form to set one from a day — the
 * domain function of `price set`, with the operator's e-mail as `by`. Any other role is refused (403).
 */
const LABELS = {
  model: 'prices.col.model',
  service: 'prices.field.service',
  from: 'prices.col.from',
  perInhabitant: 'prices.field.perInhabitant',
  perFile: 'prices.field.perFile',
  perGib: 'prices.field.perGib',
} as const satisfies Record<string, MessageKey>;
const priceBody = {
  type: 'object',
  properties: { ...formFields, model: choice(['buffet', 'per-use']), service: choice(['send', 'fetch']), from: day, perInhabitant: dkk, perFile: dkk, perGib: dkk },
} as const;

/** The fields each model needs: the others of the form are left out of what is set. */
const NEEDED = { buffet: ['from', 'perInhabitant'], 'per-use': ['from', 'service', 'perFile', 'perGib'] } as const;

export async function pricesPages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;
  const operator = { preHandler: [requireLogin, async (request: FastifyRequest) => authorize(personOf(request), 'operate')] };

  const show = async (request: FastifyRequest, reply: FastifyReply, extra: { chosen?: Record<string, string>; problem?: Shown; problems?: string[]; status?: number } = {}) =>
    renderPage(request, reply, 'prices', 'prices.title', { rows: await listPrices(pool), done: doneKey(request, ['price-set']), chosen: extra.chosen ?? { model: 'buffet' }, problem: extra.problem, problems: extra.problems }, extra.status ?? 200);

  app.get('/prices', { ...operator, ...pageSchema({ querystring: doneQuery }) }, (request, reply) => show(request, reply));

  app.post('/prices', { ...operator, ...pageSchema({ body: priceBody }) }, async (request, reply) => {
    const chosen = Object.fromEntries(Object.keys(LABELS).map((name) => [name, field(request.body, name)]));
    const problems = badFields(request, LABELS);
    const model = chosen.model === 'buffet' || chosen.model === 'per-use' ? chosen.model : undefined;
    if (problems.length === 0) {
      const missing = model ? NEEDED[model].filter((name) => !chosen[name]) : ['model' as const];
      problems.push(...missing.map((name) => request.t('form.bad.required', { label: request.t(LABELS[name]) })));
    }
    if (problems.length > 0 || !model) return show(request, reply, { chosen, problems, status: 400 });
    const input: PriceInput =
      model === 'buffet'
        ? { model, from: chosen.from, perInhabitant: chosen.perInhabitant }
        : { model, from: chosen.from, service: chosen.service, perFile: chosen.perFile, perGib: chosen.perGib };
    try {
      await setPrice(pool, input, personOf(request).email);
    } catch (err) {
      return show(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/prices', 'price-set');
  });
}
