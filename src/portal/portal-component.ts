import { hasOperator } from '../accounts/find-user.js';
import { purgeExpiredSessions } from '../accounts/sessions.js';
import { systemClock } from '../accounts/clock.js';
import { log } from '../log.js';
import { closePortal } from './close-portal.js';
import type { ComponentFactory } from '../serve/component.js';

const PURGE_EVERY_MS = 15 * 60_000;

/**
 * The portal as a part of `serve` (roles all and portal) on PORTAL_HOST:PORTAL_PORT; PORTAL_PORT=off
 * runs none.
 */
export const portalComponent: ComponentFactory = async ({ config, database, role }) => {
  if ((role !== 'all' && role !== 'portal') || !config.portal) return undefined;
  // Loaded only on nodes that serve the portal: Fastify and its plugins cost start-up time.
  const { buildPortal } = await import('./app.js');
  const app = await buildPortal({ pool: database.pool, config, databaseUrl: database.url });
  const address = await app.listen({ host: config.portal.host, port: config.portal.port });
  log.info({ op: 'portal', address, publicUrl: config.portalPublicUrl }, `portal on ${address} (people use ${config.portalPublicUrl})`);
  const purge = setInterval(() => {
    void purgeExpiredSessions(database.pool, systemClock).catch((err: unknown) => log.warn({ op: 'portal', err }, 'purging expired sessions failed'));
  }, PURGE_EVERY_MS);
  purge.unref();
  const notes = [`the portal: ${config.portalPublicUrl}`];
  // A fresh installation: nobody can log in until the CLI invites the first operator.
  if (!(await hasOperator(database.pool))) {
    notes.push(`nobody can log in to the portal yet: 'filudveksling user invite <e-mail> --role operator' prints the first operator's one-time link`);
  }
  return {
    name: 'portal',
    readiness: {},
    notes,
    async stop() {
      clearInterval(purge);
      await closePortal(app, config.drainMs);
    },
  };
};
