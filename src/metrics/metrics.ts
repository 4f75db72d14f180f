import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The node's Prometheus metrics (SPEC §9), served on /metrics. One registry per process; the parts
 * of the server record into the named metrics below.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'filudveksling_' });

export const uploadsTotal = new Counter({
  name: 'filudveksling_uploads_total',
  help: 'Files uploaded over SFTP (handle closed), per system',
  labelNames: ['system'] as const,
  registers: [registry],
});

export const uploadBytesTotal = new Counter({
  name: 'filudveksling_upload_bytes_total',
  help: 'Bytes uploaded over SFTP, per system',
  labelNames: ['system'] as const,
  registers: [registry],
});

export const transfersTotal = new Counter({
  name: 'filudveksling_transfers_total',
  help: 'Transfers decided, by outcome (delivered, rejected, failed, resend) and error code',
  labelNames: ['outcome', 'code'] as const,
  registers: [registry],
});

export const routingLatency = new Histogram({
  name: 'filudveksling_routing_latency_seconds',
  help: 'Trigger closed → last metadata written',
  buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const activeSessions = new Gauge({
  name: 'filudveksling_sftp_sessions',
  help: 'Authenticated SFTP sessions open on this node',
  registers: [registry],
});

export const failedLogins = new Counter({
  name: 'filudveksling_sftp_failed_logins_total',
  help: 'Failed SFTP login attempts',
  registers: [registry],
});

export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
