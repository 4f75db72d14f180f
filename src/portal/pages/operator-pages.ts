import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addAuthority } from '../../authority/add-authority.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import { liveNodes, queueStatus } from '../../operations/cluster-status.js';
import { inboxBacklog, isFallingBehind } from '../../operations/inbox-backlog.js';
import { addRoute } from '../../routes/add-route.js';
import { listRoutes } from '../../routes/list-routes.js';
import { removeRoute } from '../../routes/remove-route.js';
import { addVendor } from '../../vendors/add-vendor.js';
import { listVendors } from '../../vendors/find-vendor.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import type { MessageKey } from '../i18n/messages.js';
import { doneKey, field, problemOf, redirectDone, renderPage, type Shown } from './page-kit.js';

/**
 * The operator's own pages (SPEC §11): vendors, authorities, routes and the status of the service —
 * the domain functions of `vendor add`, `authority add`, `route add|remove` and `status`.
 * Any other role is refused (403: the pages exist, the role may not use them).
 */
export async function operatorPages(app: FastifyInstance): Promise<void> {
  const { pool, config } = app.portal;
  const operator = { preHandler: [requireLogin, async (request: FastifyRequest) => authorize(personOf(request), 'operate')] };

  /** A list page with its "add" form: shown, or shown again with the refusal above the form. */
  function listPage(view: string, title: MessageKey, load: () => Promise<unknown[]>, done: readonly string[]) {
    return async (request: FastifyRequest, reply: FastifyReply, extra: { chosen?: Record<string, string>; problem?: Shown; status?: number } = {}) =>
      renderPage(request, reply, view, title, { rows: await load(), done: doneKey(request, done), chosen: extra.chosen ?? {}, problem: extra.problem }, extra.status ?? 200);
  }
  const vendors = listPage('vendors', 'vendors.title', () => listVendors(pool), ['vendor-added']);
  const authorities = listPage('authorities', 'authorities.title', () => listAuthorities(pool), ['authority-added']);
  const routes = listPage('routes', 'routes.title', () => listRoutes(pool), ['route-added', 'route-removed']);

  app.get('/vendors', operator, (request, reply) => vendors(request, reply));
  app.post('/vendors', operator, async (request, reply) => {
    const chosen = { name: field(request.body, 'name'), cvr: field(request.body, 'cvr') };
    try {
      await addVendor(pool, { name: chosen.name, cvr: chosen.cvr || undefined }, personOf(request).email);
    } catch (err) {
      return vendors(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/vendors', 'vendor-added');
  });

  app.get('/authorities', operator, (request, reply) => authorities(request, reply));
  app.post('/authorities', operator, async (request, reply) => {
    const chosen = { cvr: field(request.body, 'cvr'), name: field(request.body, 'name'), folder: field(request.body, 'folder') };
    try {
      await addAuthority(pool, { cvr: chosen.cvr, name: chosen.name, folder: chosen.folder || undefined }, personOf(request).email);
    } catch (err) {
      return authorities(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/authorities', 'authority-added');
  });

  app.get('/routes', operator, (request, reply) => routes(request, reply));
  app.post('/routes', operator, async (request, reply) => {
    const b = request.body;
    const chosen = { sender: field(b, 'sender'), infref: field(b, 'infref'), recipient: field(b, 'recipient'), authority: field(b, 'authority'), validFrom: field(b, 'validFrom'), validTo: field(b, 'validTo') };
    try {
      await addRoute(pool, { ...chosen, validFrom: chosen.validFrom || undefined, validTo: chosen.validTo || undefined }, personOf(request).email);
    } catch (err) {
      return routes(request, reply, { chosen, ...problemOf(request, err) });
    }
    return redirectDone(reply, '/routes', 'route-added');
  });
  app.post<{ Params: { id: string } }>('/routes/:id/remove', operator, async (request, reply) => {
    try {
      await removeRoute(pool, request.params.id, personOf(request).email);
    } catch (err) {
      return routes(request, reply, problemOf(request, err));
    }
    return redirectDone(reply, '/routes', 'route-removed');
  });

  app.get('/status', operator, async (request, reply) => {
    const [nodes, queue, backlog] = await Promise.all([liveNodes(pool), queueStatus(pool), inboxBacklog(pool)]);
    return renderPage(request, reply, 'status', 'status.title', { nodes, queue, backlog: backlog.map((b) => ({ ...b, behind: isFallingBehind(b, config.notifyUnfetchedHours) })) });
  });
}
