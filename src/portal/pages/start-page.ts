import type { FastifyInstance } from 'fastify';
import { personOf } from '../authorize.js';
import { requireLogin } from '../authenticate.js';
import { renderPage } from '../render.js';
import { doneQuery, pageSchema } from './page-kit.js';

/** `/`: who you are and the pages you have. */
export async function startPage(app: FastifyInstance): Promise<void> {
  app.get('/', { preHandler: requireLogin, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    const p = personOf(request);
    const organisation = p.vendor?.name ?? (p.authority ? [p.authority.kommunekode, p.authority.name].filter(Boolean).join(' ') : undefined);
    return renderPage(request, reply, 'start.eta', { organisation }, { title: 'start.title' });
  });
}
