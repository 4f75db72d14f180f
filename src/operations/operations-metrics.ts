import { Gauge } from 'prom-client';
import { log } from '../log.js';
import { registry } from '../metrics/metrics.js';
import type { ComponentFactory } from '../serve/component.js';
import { noticeCounts } from '../notices/outbox.js';
import { queueStatus } from './cluster-status.js';
import { inboxBacklog, type InboxBacklog } from './inbox-backlog.js';

const CACHE_MS = 10_000;

/**
 * Gauges read at scrape time: the routing backlog (from PostgreSQL, the source of truth, so it is the
 * same whichever queue backend runs), per recipient the unfetched files and the age of the oldest,
 * and the outbox's notices not yet mailed or failed.
 */
export const operationsMetrics: ComponentFactory = async ({ database }) => {
  /** A reading shared by the gauges that read it, taken again once CACHE_MS old. */
  const cachedLoad = <T>(load: () => Promise<T>) => {
    let entry: { at: number; value: Promise<T> } | undefined;
    return () => {
      if (!entry || Date.now() - entry.at >= CACHE_MS) entry = { at: Date.now(), value: load() };
      return entry.value;
    };
  };
  const queue = cachedLoad(() => queueStatus(database.pool));
  const backlog = cachedLoad(() => inboxBacklog(database.pool));
  const notices = cachedLoad(() => noticeCounts(database.pool));

  const gauge = <T>(read: () => Promise<T>, name: string, help: string, value: (r: T) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await read()));
      },
    });
  const perSystemGauge = (name: string, help: string, value: (b: InboxBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['system'] as const,
      registers: [registry],
      async collect() {
        const rows = await backlog();
        this.reset();
        for (const b of rows) this.set({ system: b.system }, value(b));
      },
    });

  const gauges = [
    gauge(queue, 'filudveksling_queue_depth', 'Transfers received but not yet delivered or rejected', (q) => q.inFlight),
    gauge(queue, 'filudveksling_queue_oldest_job_seconds', 'Age of the oldest transfer not yet decided', (q) => q.oldestSeconds),
    gauge(queue, 'filudveksling_transfers_failed', 'Transfers whose delivery failed after its retries (retry with filudveksling transfer retry)', (q) => q.failed),
    perSystemGauge('filudveksling_inbox_unfetched_files', 'Delivered files a recipient has neither read whole nor deleted', (b) => b.files),
    perSystemGauge('filudveksling_inbox_oldest_unfetched_seconds', 'Age of the oldest file a recipient has not fetched', (b) => b.oldestSeconds),
    gauge(notices, 'filudveksling_notices_pending', 'Notices (SPEC §12) not yet mailed: waiting, or being sent', (n) => n.pending),
    gauge(notices, 'filudveksling_notices_failed', 'Notices that failed after their attempts, or whose node stopped mid-send (see filudveksling notice list --failed)', (n) => n.failed),
  ];
  const names = gauges.map((g) => (g as unknown as { name: string }).name);
  log.debug({ op: 'metrics' }, 'operational gauges registered');
  return {
    name: 'operations-metrics',
    async stop() {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
};
