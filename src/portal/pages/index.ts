import type { FastifyInstance } from 'fastify';
import { accountPages } from './account-pages.js';
import { agreementsPages } from './agreements-pages.js';
import { infrefsPages } from './infrefs-pages.js';
import { noticesPages } from './notices-pages.js';
import { operatorPages } from './operator-pages.js';
import { pricesPages } from './prices-pages.js';
import { startPage } from './start-page.js';
import { systemsPages } from './systems-pages.js';
import { transfersPages } from './transfers-pages.js';
import { usagePages } from './usage-pages.js';
import { usersPages } from './users-pages.js';

/**
 * The portal's pages, one Fastify plugin per area (see docs/portal.md, "How to add a page").
 * Add yours to this list; its menu item (navigation.ts) shows once its GET route exists.
 */
const AREAS: Array<(app: FastifyInstance) => Promise<void>> = [
  accountPages,
  startPage,
  usersPages,
  // portal-pages: SPEC §11's table
  systemsPages,
  agreementsPages,
  infrefsPages,
  transfersPages,
  usagePages,
  noticesPages,
  operatorPages,
  pricesPages,
];

/** Every form post of every page carries the CSRF token (checked here, once for all). */
export async function pagesPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    app.csrfProtection(request, reply, done);
  });
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  for (const area of AREAS) await app.register(area);
}
