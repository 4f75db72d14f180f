import type { FastifyInstance } from 'fastify';

/**
 * Marks a plugin as not encapsulated (what the `fastify-plugin` package does, by the same symbol):
 * its hooks, decorators and plugins apply to the whole application, not only to its own routes.
 */
export function shared<O>(plugin: (app: FastifyInstance, options: O) => Promise<void>): (app: FastifyInstance, options: O) => Promise<void> {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
