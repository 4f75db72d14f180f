import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listNotices, noticesOf } from '../../notices/outbox.js';
import { someNodeMailsNotices } from '../../operations/cluster-status.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { Problem } from '../problem.js';
import { badFields, choice, pageOf, pageSchema, paging, renderPage } from './page-kit.js';
import { safeLocalPath } from './safe-path.js';

/**
 * Advis (SPEC §12): every notice is shown to its addressee here, newest first, paged by id (the
 * query of GET /api/v1/notices), its subject linking to the page it is about; and the operators'
 * outbox of every notice with its sending state, attempts and last error, paged the same way (the
 * query of `notice list`). Invitations and resets are listed without
 * their text or link: the one-time link is not shown again. While no live node mails notices (none
 * of role all or router has SMTP_URL), the outbox says so and what to do, and a person's pending
 * notices say they are not mailed instead of waiting to be sent.
 */
const PAGE_SIZE = 50;

const LABELS = { after: 'common.next', failed: 'outbox.field.show' } as const;
const noticesQuery = { type: 'object', properties: { after: { type: 'string', pattern: '^$|^[0-9]{1,18}$' } } } as const;
const outboxQuery = { type: 'object', properties: { failed: choice(['yes']), after: { type: 'string', pattern: '^$|^[0-9]{1,18}$' } } } as const;

export async function noticesPages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  app.get('/notices', { preHandler: requireLogin, ...pageSchema({ querystring: noticesQuery }) }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'read');
    const problems = badFields(request, LABELS);
    const after = problems.length > 0 ? undefined : queryText(request, 'after') || undefined;
    // One more than a page: whether there is a next one.
    const [found, mailed] = await Promise.all([noticesOf(pool, person.id, { limit: PAGE_SIZE + 1, after }), someNodeMailsNotices(pool)]);
    const { rows, nextAfter } = pageOf(found, PAGE_SIZE);
    const page = rows.map((n) => {
      // Invitations and resets carry a one-time link: neither it nor the text is shown again.
      const account = n.event.startsWith('account.');
      return { ...n, text: account ? undefined : n.body, link: account || !n.link.startsWith('/') ? undefined : safeLocalPath(n.link) };
    });
    return renderPage(request, reply, 'notices', 'notices.title', { rows: page, unmailed: !mailed, paging: paging('/notices', { after, nextAfter }), problems }, problems.length > 0 ? 400 : 200);
  });

  /** The outbox is the operators' alone: to anyone else it does not exist (404). */
  app.get('/outbox', { preHandler: requireLogin, ...pageSchema({ querystring: outboxQuery }) }, async (request, reply) => {
    const person = personOf(request);
    if (can(person, 'operate') !== 'allowed') throw new Problem(404, 'No such page.');
    const problems = badFields(request, LABELS);
    const failed = queryText(request, 'failed') === 'yes';
    const after = problems.length > 0 ? undefined : queryText(request, 'after') || undefined;
    const [found, mailed] = await Promise.all([listNotices(pool, { failed, after, limit: PAGE_SIZE + 1 }), someNodeMailsNotices(pool)]);
    const { rows: page, nextAfter } = pageOf(found, PAGE_SIZE);
    const pages = paging('/outbox', { query: { failed: failed ? 'yes' : undefined }, after, nextAfter });
    return renderPage(request, reply, 'outbox', 'outbox.title', { rows: page, failed, unmailed: !mailed, paging: pages, problems }, problems.length > 0 ? 400 : 200);
  });
}

function queryText(request: FastifyRequest, name: string): string | undefined {
  const v = (request.query as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}
