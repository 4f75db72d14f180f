import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pool } from '../../db/pool.js';
import { retryTransfer } from '../../router/retry-transfer.js';
import { findTransfer } from '../../router/sql/find-transfer.js';
import { deliveriesOf } from '../../router/sql/pending-deliveries.js';
import { transferSteps } from '../../router/sql/transfer-steps.js';
import { doneKey, NotFoundPage, personOf, problemOf, redirectDone, renderPage, scopeOf } from './page-kit.js';
import { transferInScope, transfersPage } from './sql/transfers-page.js';

/**
 * Overførsler (SPEC §11): transfers within the person's scope, filtered and paged; one transfer
 * with its steps, per-recipient state and receipt; operators retry a failed one (as `transfer retry`).
 * Never a file's contents.
 */
export const TRANSFER_STATUSES = ['received', 'validated', 'delivering', 'delivered', 'rejected', 'failed', 'expired', 'resent'];
const PAGE_SIZE = 50;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function transfersPages(app: FastifyInstance, opts: { pool: Pool; config: Config; databaseUrl: string }): Promise<void> {
  const { pool } = opts;

  app.get('/overfoersler', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const filter = {
      status: TRANSFER_STATUSES.includes(q.status ?? '') ? q.status : undefined,
      system: q.system?.trim() || undefined,
      since: q.since && DAY.test(q.since) && !Number.isNaN(Date.parse(q.since)) ? q.since : undefined,
    };
    const page = await transfersPage(pool, { scope: scopeOf(personOf(request)), ...filter, after: q.after, limit: PAGE_SIZE });
    const nextQuery = page.next ? new URLSearchParams({ ...definedOnly(filter), after: page.next }).toString() : undefined;
    return renderPage(request, reply, 'transfers', { rows: page.rows, filter, statuses: TRANSFER_STATUSES, nextQuery, paged: Boolean(q.after) });
  });

  app.get<{ Params: { id: string } }>('/overfoersler/:id', async (request, reply) => {
    return renderPage(request, reply, 'transfer', { ...(await transferView(pool, request)), done: doneKey(request, ['retried']) });
  });

  app.post<{ Params: { id: string } }>('/overfoersler/:id/retry', async (request, reply) => {
    const person = personOf(request);
    const view = await transferView(pool, request);
    if (person.role !== 'operator') throw new NotFoundPage();
    try {
      const r = await retryTransfer(pool, view.tr.id, person.email);
      // As `transfer retry` does: the routing queue is told once the transfer is back in its state.
      const { openRoutingQueue, queueBackend, submit } = await import('../../router/routing-queue.js');
      const queue = openRoutingQueue(queueBackend(opts.config, opts.databaseUrl));
      try {
        await submit(queue, { kind: 'transfer', transferId: r.id }, `retry-${r.id}-${r.retries}`);
      } finally {
        await queue.close();
      }
    } catch (err) {
      return renderPage(request, reply, 'transfer', { ...view, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, `/overfoersler/${view.tr.id}`, 'retried');
  });
}

async function transferView(pool: Pool, request: Parameters<typeof personOf>[0] & { params: { id: string } }) {
  const id = request.params.id.toLowerCase();
  if (!(await transferInScope(pool, scopeOf(personOf(request)), id))) throw new NotFoundPage();
  const t = (await findTransfer(pool, id))!;
  const [steps, deliveries] = await Promise.all([transferSteps(pool, t.id), deliveriesOf(pool, t.id)]);
  return {
    tr: t,
    steps,
    deliveries: deliveries.map((d) => ({
      recipient: d.username,
      status: d.status,
      placed: d.status !== 'pending',
      // When it was fetched and deleted from IN comes with the SFTP hook (issue 10); until then the state says fetched.
      fetched: (d as { fetchedAt?: Date | null }).fetchedAt ?? (d.status === 'fetched' ? true : null),
      deleted: (d as { deletedAt?: Date | null }).deletedAt ?? null,
      path: d.deliveredName ? (d.folder ? `IN/${d.folder}/${d.deliveredName}` : `IN/${d.deliveredName}`) : null,
    })),
    canRetry: personOf(request).role === 'operator' && t.status === 'failed',
  };
}

function definedOnly(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}
