import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { log } from '../log.js';

/** How often, while the portal drains, connections whose last request has been answered are closed. */
const IDLE_CLOSE_EVERY_MS = 100;

/**
 * Stops the portal: no new connections, idle keep-alive connections close at once, requests in
 * flight may finish for up to `drainMs`, then every connection still open is closed. Without that
 * a client that never finishes sending its request holds the stop for Node's own limits (60 s for
 * the headers, 5 min for the whole request), and one answered 503 while the portal was closing
 * holds the process until the client hangs up.
 */
export async function closePortal(app: FastifyInstance, drainMs: number): Promise<void> {
  const closed = app.close();
  // server.close() closes the connections idle at that moment only: one whose request in flight is
  // answered afterwards stays open (keep-alive) and held the stop for the whole drain timeout, then
  // was counted as still open. Each is closed once its answer is sent.
  const idle = setInterval(() => app.server.closeIdleConnections(), IDLE_CLOSE_EVERY_MS);
  let timer: NodeJS.Timeout | undefined;
  try {
    const drained = await Promise.race([closed.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs)))]);
    const open = await openConnections(app.server);
    if (!drained && open > 0) log.warn({ op: 'portal', connections: open, drainMs }, `drain timeout: closing ${open} portal connection(s) still open`);
    app.server.closeAllConnections();
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(timer);
  }
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}
