import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import { shared } from './shared-plugin.js';

/** src/portal/{views,assets} from src/portal (ts-jest) or dist/src/portal (built): templates and assets are not compiled. */
const portalDir = new URL(import.meta.url.includes('/dist/') ? '../../../src/portal/' : './', import.meta.url);
export const viewsDir = fileURLToPath(new URL('views/', portalDir));
export const assetsDir = fileURLToPath(new URL('assets/', portalDir));

/**
 * Eta templates (markup only; `<%= %>` escapes, texts come from `it.t`) in one layout, and static
 * assets under /assets/ from this repository.
 */
export const views = shared(async (app: FastifyInstance) => {
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: viewsDir, autoEscape: true, autoTrim: false, cache: true }) },
    templates: viewsDir,
    layout: 'layout.eta',
    production: true,
  });
  await app.register(fastifyStatic, { root: assetsDir, prefix: '/assets/', index: false, maxAge: '1h', decorateReply: false });
});
