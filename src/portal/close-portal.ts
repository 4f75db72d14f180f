import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { log } from '../log.js';

/**
 * Stops the portal: no new connections, idle keep-alive connections close at once, requests in
 * flight may finish for up to `drainMs`, then every connection still open is closed. Without that
 * a client that never finishes sending its request holds the stop for Node's own limits (60 s for
 * the headers, 5 min for the whole request), and one answered 503 while the portal was closing
 * holds the process until the client hangs up.
 */
export async function closePortal(app: FastifyInstance, drainMs: number): Promise<void> {
  const closed = app.close();
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([closed.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs)))]);
  clearTimeout(timer);
  const open = await openConnections(app.server);
  if (!drained && open > 0) log.warn({ op: 'portal', connections: open, drainMs }, `drain timeout: closing ${open} portal connection(s) still open`);
  app.server.closeAllConnections();
  await closed;
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}
