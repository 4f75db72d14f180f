import type { FastifyInstance } from 'fastify';
import { addAuthority } from '../../authority/add-authority.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import type { Config } from '../../config/config.js';
import type { Pool } from '../../db/pool.js';
import { liveNodes, queueStatus } from '../../operations/cluster-status.js';
import { inboxBacklog } from '../../operations/inbox-backlog.js';
import { addRoute } from '../../routes/add-route.js';
import { listRoutes } from '../../routes/list-routes.js';
import { removeRoute } from '../../routes/remove-route.js';
import { addVendor } from '../../vendors/add-vendor.js';
import { listVendors } from '../../vendors/find-vendor.js';
import { doneKey, field, NotFoundPage, personOf, problemOf, redirectDone, renderPage } from './page-kit.js';

/**
 * The operator's own pages (SPEC §11): vendors, authorities, routes and the status of the service —
 * the same domain functions as `vendor add`, `authority add`, `route add|remove` and `status`.
 * Nobody else sees them (404).
 */
const BEHIND_SECONDS = 3600;

export async function operatorPages(app: FastifyInstance, opts: { pool: Pool; config: Config }): Promise<void> {
  const { pool, config } = opts;

  app.addHook('preHandler', async (request) => {
    if (personOf(request)?.role !== 'operator') throw new NotFoundPage();
  });

  app.get('/leverandoerer', async (request, reply) =>
    renderPage(request, reply, 'vendors', { rows: await listVendors(pool), done: doneKey(request, ['vendor-added']), chosen: {} }),
  );

  app.post('/leverandoerer', async (request, reply) => {
    const chosen = { name: field(request.body, 'name'), cvr: field(request.body, 'cvr') };
    try {
      await addVendor(pool, { name: chosen.name, cvr: chosen.cvr || undefined }, personOf(request).email);
    } catch (err) {
      return renderPage(request, reply, 'vendors', { rows: await listVendors(pool), chosen, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, '/leverandoerer', 'vendor-added');
  });

  app.get('/myndigheder', async (request, reply) =>
    renderPage(request, reply, 'authorities', { rows: await listAuthorities(pool), done: doneKey(request, ['authority-added']), chosen: {} }),
  );

  app.post('/myndigheder', async (request, reply) => {
    const chosen = { cvr: field(request.body, 'cvr'), name: field(request.body, 'name'), folder: field(request.body, 'folder') };
    try {
      await addAuthority(pool, { cvr: chosen.cvr, name: chosen.name, folder: chosen.folder || undefined }, personOf(request).email);
    } catch (err) {
      return renderPage(request, reply, 'authorities', { rows: await listAuthorities(pool), chosen, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, '/myndigheder', 'authority-added');
  });

  app.get('/ruter', async (request, reply) =>
    renderPage(request, reply, 'routes', { rows: await listRoutes(pool), done: doneKey(request, ['route-added', 'route-removed']), chosen: {} }),
  );

  app.post('/ruter', async (request, reply) => {
    const b = request.body;
    const chosen = { sender: field(b, 'sender'), infref: field(b, 'infref'), recipient: field(b, 'recipient'), authority: field(b, 'authority'), validFrom: field(b, 'validFrom'), validTo: field(b, 'validTo') };
    try {
      await addRoute(pool, { ...chosen, validFrom: chosen.validFrom || undefined, validTo: chosen.validTo || undefined }, personOf(request).email);
    } catch (err) {
      return renderPage(request, reply, 'routes', { rows: await listRoutes(pool), chosen, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, '/ruter', 'route-added');
  });

  app.post<{ Params: { id: string } }>('/ruter/:id/remove', async (request, reply) => {
    try {
      await removeRoute(pool, request.params.id, personOf(request).email);
    } catch (err) {
      return renderPage(request, reply, 'routes', { rows: await listRoutes(pool), chosen: {}, problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, '/ruter', 'route-removed');
  });

  app.get('/status', async (request, reply) => {
    const [nodes, queue, backlog] = await Promise.all([liveNodes(pool), queueStatus(pool), inboxBacklog(config.dataDir)]);
    return renderPage(request, reply, 'status', { nodes, queue, backlog: backlog.map((b) => ({ ...b, behind: b.oldestSeconds >= BEHIND_SECONDS })) });
  });
}
