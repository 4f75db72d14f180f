import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pool } from '../../db/pool.js';
import { deliveryStates } from '../../deliveries/delivery-states.js';
import { retryTransfer } from '../../router/retry-transfer.js';
import { findTransfer } from '../../router/sql/find-transfer.js';
import type { TransferRow } from '../../router/sql/transfer-row.js';
import { transferSteps, type Step } from '../../router/sql/transfer-steps.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { isMessageKey, type MessageKey } from '../i18n/messages.js';
import { Problem } from '../problem.js';
import { badFields, choice, day, doneKey, formFields, isRealDay, pageSchema, paging, problemOf, redirectDone, renderPage, scopeFilter, text } from './page-kit.js';
import { transferInScope, transfersPage } from '../sql/transfers-page.js';
import { withoutCliHints } from '../refusals.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';
import { ERROR_CODE_NAMES, ERROR_CODES } from '../../triggers/error-codes.js';

/**
 * Overførsler (SPEC §11): transfers within the person's scope, filtered and paged; one transfer
 * with its steps, per-recipient state and receipt; operators retry a failed one (as `transfer retry`).
 * Never a file's contents.
 */
export const TRANSFER_STATUSES = ['received', 'validated', 'delivering', 'delivered', 'rejected', 'failed', 'expired', 'resent'];
const PAGE_SIZE = 50;

const LABELS = { status: 'transfers.col.status', system: 'transfers.field.system', since: 'transfers.field.since', after: 'common.next' } as const;
const listQuery = {
  type: 'object',
  properties: {
    status: choice(TRANSFER_STATUSES),
    system: text(USERNAME_MAX_LENGTH),
    since: day,
    after: { type: 'string', pattern: '^$|^[0-9]{1,17}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
  },
} as const;
const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 36 } }, required: ['id'] } as const;
const retryBody = { type: 'object', properties: formFields } as const;

export async function transfersPages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  app.get('/transfers', { preHandler: requireLogin, ...pageSchema({ querystring: listQuery }) }, async (request, reply) => {
    authorize(personOf(request), 'read');
    const problems = badFields(request, LABELS);
    const q = request.query as Record<string, string | undefined>;
    const filter = {
      status: TRANSFER_STATUSES.includes(q.status ?? '') ? q.status : undefined,
      system: typeof q.system === 'string' ? q.system.trim().slice(0, USERNAME_MAX_LENGTH) || undefined : undefined,
      since: typeof q.since === 'string' && isRealDay(q.since) ? q.since : undefined,
    };
    if (q.since && !filter.since && problems.length === 0) problems.push(request.t('form.bad.day', { label: request.t(LABELS.since), value: q.since }));
    // A bad value is named above the filters and left out of the query; the form shows what was typed.
    const after = problems.length === 0 ? q.after || undefined : undefined;
    const page = await transfersPage(pool, { scope: scopeFilter(personOf(request)), ...filter, after, limit: PAGE_SIZE });
    const pages = paging('/transfers', { query: filter, after, nextAfter: page.next });
    const typed = { status: q.status, system: q.system, since: q.since };
    return renderPage(request, reply, 'transfers', 'transfers.title', { rows: page.rows, filter, typed, problems, statuses: TRANSFER_STATUSES, paging: pages }, problems.length > 0 ? 400 : 200);
  });

  app.get<{ Params: { id: string } }>('/transfers/:id', { preHandler: requireLogin, ...pageSchema({ params: idParams }) }, async (request, reply) => {
    badFields(request);
    return renderPage(request, reply, 'transfer', 'transfers.one', { ...(await transferView(pool, request)), done: doneKey(request, ['retried']) });
  });

  app.post<{ Params: { id: string } }>('/transfers/:id/retry', { preHandler: requireLogin, ...pageSchema({ params: idParams, body: retryBody }) }, async (request, reply) => {
    badFields(request);
    const person = personOf(request);
    const view = await transferView(pool, request);
    authorize(person, 'operate');
    try {
      await retryTransfer(pool, app.portal.routingQueue, view.tr.id, person.email);
    } catch (err) {
      const { problem, status } = problemOf(request, err);
      return renderPage(request, reply, 'transfer', 'transfers.one', { ...view, problem }, status);
    }
    return redirectDone(reply, `/transfers/${view.tr.id}`, 'retried');
  });
}

async function transferView(pool: Pool, request: FastifyRequest<{ Params: { id: string } }>) {
  const person = personOf(request);
  authorize(person, 'read');
  const id = request.params.id.toLowerCase();
  if (!(await transferInScope(pool, scopeFilter(person), id))) throw new Problem(404, 'No such transfer.');
  const t = (await findTransfer(pool, id))!;
  const [steps, deliveries] = await Promise.all([transferSteps(pool, t.id), deliveryStates(pool, t.id)]);
  return {
    tr: t,
    error: errorShown(t),
    steps: steps.map(stepShown),
    deliveries: deliveries.map((d) => ({
      recipient: d.recipient,
      placed: d.placedAt,
      fetched: d.fetchedAt,
      deleted: d.deletedAt,
      path: d.deliveredName ? (d.folder ? `IN/${d.folder}/${d.deliveredName}` : `IN/${d.deliveredName}`) : null,
    })),
    canRetry: can(person, 'operate') === 'allowed' && t.status === 'failed',
  };
}

/**
 * A step as the page says it: its name from the catalogue (`transfers.step.<name>`) with what
 * follows the colon (`placed:modtager-b`, `retry:2`) as its value; a failure's time is the step's own.
 * A step the catalogue does not name shows as it is recorded.
 */
function stepShown(s: Step): { at: Date; key?: string; arg: string; step: string } {
  const [name, ...rest] = s.step.split(':');
  const key = `transfers.step.${name}`;
  return { at: s.at, step: s.step, arg: name === 'failed' ? '' : rest.join(':'), ...(isMessageKey(key) ? { key } : {}) };
}

/**
 * A transfer's error as the page says it: the receipt's code (`1204 ROUTE_MISSING`), a sentence per
 * code from the catalogue (`transfers.code.<NAME>`) in the page's language, naming the file, trigger
 * or sender the row holds, and beneath it, labelled, the router's own English: it names the values
 * that matter to whoever acts on it (the CVR, the InfRef, the sizes), without the CLI's commands.
 */
function errorShown(t: TransferRow): { code: string; key: MessageKey; values: Record<string, string>; detail?: string } | undefined {
  if (!t.errorCode) return undefined;
  const name = ERROR_CODE_NAMES.find((n) => n === t.errorCode);
  const detail = t.errorText ? withoutCliHints(t.errorText) : undefined;
  const values = { file: t.fileName ?? '', trigger: t.triggerName, sender: t.senderUsername, code: t.errorCode };
  if (!name) return { code: t.errorCode, key: 'transfers.code.other', values, detail };
  // Typed as a key: the compiler refuses a code of the list without its sentence in the catalogues.
  const key: MessageKey = `transfers.code.${name}`;
  return { code: `${ERROR_CODES[name].number} ${name}`, key, values, detail };
}
