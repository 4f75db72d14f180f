import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addAuthority, AUTHORITY_NAME_MAX_LENGTH } from '../../authority/add-authority.js';
import { FOLDER_MAX_BYTES } from '../../authority/folder-name.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import { everyVersionOf } from '../../infref/infref-name.js';
import { liveNodes, queueStatus } from '../../operations/cluster-status.js';
import { inboxBacklog, isFallingBehind } from '../../operations/inbox-backlog.js';
import { addRoute } from '../../routes/add-route.js';
import { listRoutes } from '../../routes/list-routes.js';
import { removeRoute } from '../../routes/remove-route.js';
import { addVendor, VENDOR_NAME_MAX_LENGTH } from '../../vendors/add-vendor.js';
import { listVendors } from '../../vendors/find-vendor.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import type { MessageKey } from '../i18n/messages.js';
import { badFields, day, doneKey, doneQuery, field, formFields, idParam, pageSchema, problemOf, redirectDone, renderPage, text, type Shown } from './page-kit.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';

/**
 * The operator's own pages (SPEC §11): vendors, authorities, routes and the status of the service —
 * the domain functions of `vendor add`, `authority add`, `route add|remove` and `status`.
 * Any other role is refused (403: the pages exist, the role may not use them).
 */
const LABELS = {
  name: 'vendors.col.name',
  cvr: 'vendors.col.cvr',
  folder: 'authorities.col.folder',
  sender: 'routes.col.sender',
  infref: 'routes.col.infref',
  recipient: 'routes.col.recipient',
  authority: 'routes.field.authority',
  validFrom: 'routes.field.from',
  validTo: 'routes.field.to',
} as const;
const vendorBody = { type: 'object', properties: { ...formFields, name: text(VENDOR_NAME_MAX_LENGTH), cvr: text(8) } } as const;
const authorityBody = { type: 'object', properties: { ...formFields, cvr: text(8), name: text(AUTHORITY_NAME_MAX_LENGTH), folder: text(FOLDER_MAX_BYTES) } } as const;
const routeBody = {
  type: 'object',
  properties: { ...formFields, sender: text(USERNAME_MAX_LENGTH), infref: text(120), recipient: text(USERNAME_MAX_LENGTH), authority: text(12), validFrom: day, validTo: day },
} as const;
const routeParams = { type: 'object', properties: { id: idParam }, required: ['id'] } as const;
const plainBody = { type: 'object', properties: formFields } as const;

export async function operatorPages(app: FastifyInstance): Promise<void> {
  const { pool, config } = app.portal;
  const operator = { preHandler: [requireLogin, async (request: FastifyRequest) => authorize(personOf(request), 'operate')] };

  /** A list page with its "add" form: shown, or shown again with the refusal above the form. */
  function listPage(view: string, title: MessageKey, load: () => Promise<unknown[]>, done: readonly string[]) {
    return async (request: FastifyRequest, reply: FastifyReply, extra: { chosen?: Record<string, string>; problem?: Shown; problems?: string[]; status?: number } = {}) =>
      renderPage(request, reply, view, title, { rows: await load(), done: doneKey(request, done), chosen: extra.chosen ?? {}, problem: extra.problem, problems: extra.problems }, extra.status ?? 200);
  }
  const vendors = listPage('vendors', 'vendors.title', () => listVendors(pool), ['vendor-added']);
  const authorities = listPage('authorities', 'authorities.title', () => listAuthorities(pool), ['authority-added']);
  // A route takes every version of its InfRef number: shown as FagsystemdefineredeDataRefGDPR<n>_*, as the operator typed it.
  const routes = listPage('routes', 'routes.title', async () => (await listRoutes(pool)).map((r) => ({ ...r, infref: everyVersionOf(r.infrefNumber) })), ['route-added', 'route-removed']);

  app.get('/vendors', { ...operator, ...pageSchema({ querystring: doneQuery }) }, (request, reply) => vendors(request, reply));
  app.post('/vendors', { ...operator, ...pageSchema({ body: vendorBody }) }, async (request, reply) => {
    const chosen = { name: field(request.body, 'name'), cvr: field(request.body, 'cvr') };
    const problems = badFields(request, LABELS);
    if (problems.length > 0) return vendors(request, reply, { chosen, problems, status: 400 });
    try {
      await addVendor(pool, { name: chosen.name, cvr: chosen.cvr || undefined }, personOf(request).email);
    } catch (err) {
      return vendors(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/vendors', 'vendor-added');
  });

  app.get('/authorities', { ...operator, ...pageSchema({ querystring: doneQuery }) }, (request, reply) => authorities(request, reply));
  app.post('/authorities', { ...operator, ...pageSchema({ body: authorityBody }) }, async (request, reply) => {
    const chosen = { cvr: field(request.body, 'cvr'), name: field(request.body, 'name'), folder: field(request.body, 'folder') };
    const problems = badFields(request, LABELS);
    if (problems.length > 0) return authorities(request, reply, { chosen, problems, status: 400 });
    try {
      await addAuthority(pool, { cvr: chosen.cvr, name: chosen.name, folder: chosen.folder || undefined }, personOf(request).email);
    } catch (err) {
      return authorities(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/authorities', 'authority-added');
  });

  app.get('/routes', { ...operator, ...pageSchema({ querystring: doneQuery }) }, (request, reply) => routes(request, reply));
  app.post('/routes', { ...operator, ...pageSchema({ body: routeBody }) }, async (request, reply) => {
    const b = request.body;
    const chosen = { sender: field(b, 'sender'), infref: field(b, 'infref'), recipient: field(b, 'recipient'), authority: field(b, 'authority'), validFrom: field(b, 'validFrom'), validTo: field(b, 'validTo') };
    const problems = badFields(request, LABELS);
    if (problems.length > 0) return routes(request, reply, { chosen, problems, status: 400 });
    try {
      await addRoute(pool, { ...chosen, validFrom: chosen.validFrom || undefined, validTo: chosen.validTo || undefined }, personOf(request).email);
    } catch (err) {
      return routes(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/routes', 'route-added');
  });
  app.post<{ Params: { id: string } }>('/routes/:id/remove', { ...operator, ...pageSchema({ params: routeParams, body: plainBody }) }, async (request, reply) => {
    badFields(request);
    try {
      await removeRoute(pool, request.params.id, personOf(request).email);
    } catch (err) {
      return routes(request, reply, problemOf(request, err));
    }
    return redirectDone(reply, '/routes', 'route-removed');
  });

  app.get('/status', { ...operator, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    const [nodes, queue, backlog] = await Promise.all([liveNodes(pool), queueStatus(pool), inboxBacklog(pool)]);
    // As `filudveksling status`: nodes run, and none of them mails notices.
    const unmailed = nodes.length > 0 && !nodes.some((n) => n.mailsNotices);
    return renderPage(request, reply, 'status', 'status.title', { nodes, unmailed, queue, backlog: backlog.map((b) => ({ ...b, behind: isFallingBehind(b, config.notifyUnfetchedHours) })) });
  });
}
