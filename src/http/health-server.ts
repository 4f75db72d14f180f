import { createServer, type Server } from 'node:http';
import type { Pool } from '../db/pool.js';

export type ReadinessCheck = () => Promise<void>;

export interface HealthServerOptions {
  host: string;
  port: number;
  pool: Pool;
  /** Extra checks /readyz runs (the queue backend…); each throws when not ready. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** Serves /metrics when given (Prometheus text). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

/** /healthz: the process is up. /readyz: the database (and every other dependency) answers. */
export async function startHealthServer(opts: HealthServerOptions): Promise<Server & { boundPort: number }> {
  const checks: Record<string, ReadinessCheck> = {
    database: async () => void (await opts.pool.query('SELECT 1')),
    ...opts.readinessChecks,
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      void Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2000);
            return [name, 'ok'] as const;
          } catch (err) {
            return [name, (err as Error).message || 'unreachable'] as const;
          }
        }),
      ).then((results) => {
        const ready = results.every(([, r]) => r === 'ok');
        send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
      });
      return;
    }
    if (path === '/metrics' && opts.metrics) {
      void opts.metrics().then(
        (m) => send(200, m.body, m.contentType),
        (err: Error) => send(500, { error: err.message }),
      );
      return;
    }
    send(404, { error: `No such endpoint ${path}; try /healthz, /readyz or /metrics` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return Object.assign(server, { boundPort: (server.address() as { port: number }).port });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
