import { openDatabase } from '../db/database.js';
import type { Config } from '../config/config.js';
import { startHealthServer } from '../http/health-server.js';
import { log } from '../log.js';
import { renderMetrics } from '../metrics/metrics.js';
import { nodeHeartbeat } from '../operations/node-heartbeat.js';
import { settlesWithin } from '../operations/drain.js';
import { operationsMetrics } from '../operations/operations-metrics.js';
import { retentionSchedule } from '../operations/retention-schedule.js';
import { noticesComponent } from '../notices/notices-component.js';
import { routerComponent } from '../router/router-component.js';
import { portalComponent } from '../portal/portal-component.js';
import { sftpComponent } from '../sftp/sftp-component.js';
import type { Component, ComponentFactory, Role } from './component.js';

/**
 * The parts of a node, in start order (they stop in reverse). A factory returns undefined when the
 * node's role does not include it.
 */
const factories: ComponentFactory[] = [nodeHeartbeat, operationsMetrics, routerComponent, noticesComponent, retentionSchedule, sftpComponent, portalComponent];

export interface RunningServer {
  httpPort: number;
  /** The components' notes for the person who started the node (the portal's address…). */
  notes: string[];
  stop(): Promise<void>;
}

/** `filudveksling serve`: database (embedded unless DATABASE_URL), migrations, components, HTTP. */
export async function serve(config: Config, role: Role): Promise<RunningServer> {
  const t0 = Date.now();
  const database = await openDatabase(config, 'serve', { poolSize: 20 });
  const components: Component[] = [];
  try {
    for (const factory of factories) {
      const component = await factory({ config, database, role });
      if (component) components.push(component);
    }
  } catch (err) {
    for (const c of components.reverse()) await c.stop().catch(() => undefined);
    await database.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  // A stopping node is not ready: load balancers send new clients elsewhere while it drains.
  const notStopping = async () => {
    if (stopping) throw new Error('shutting down');
  };
  const http = await startHealthServer({
    host: config.httpHost,
    port: config.httpPort,
    pool: database.pool,
    readinessChecks: Object.assign({ node: notStopping }, ...components.map((c) => c.readiness ?? {})),
    metrics: renderMetrics,
  });
  log.info({ op: 'serve', role, httpPort: http.boundPort, ms: Date.now() - t0 }, `filudveksling is ready (role ${role})`);

  return {
    httpPort: http.boundPort,
    notes: components.flatMap((c) => c.notes ?? []),
    stop: () =>
      (stopping ??= (async () => {
        const t1 = Date.now();
        log.info({ op: 'serve', role }, 'shutting down: the portal and SFTP drain, then routing finishes its jobs, then the database closes');
        // Each part gets the drain timeout and some; a part stuck on an unreachable Redis or
        // PostgreSQL is left behind rather than holding the stop forever (its work resumes later).
        const partMs = config.drainMs + 10_000;
        for (const c of [...components].reverse()) {
          const stopped = c.stop().catch((err: unknown) => log.error({ err, component: c.name }, 'component did not stop cleanly'));
          if (!(await settlesWithin(stopped, partMs))) log.warn({ op: 'serve', component: c.name, ms: partMs }, `${c.name} did not stop within ${partMs} ms (its queue or database unreachable?); going on without it`);
        }
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections(); // keep-alive probes would hold close() open
        await httpClosed;
        if (!(await settlesWithin(database.close(), 30_000))) log.warn({ op: 'serve' }, 'the database did not close within 30 s; going on');
        log.info({ op: 'serve', ms: Date.now() - t1 }, `stopped in ${Date.now() - t1} ms`);
      })()),
  };
}
