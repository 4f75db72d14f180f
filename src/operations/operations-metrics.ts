import { Gauge } from 'prom-client';
import { log } from '../log.js';
import { registry } from '../metrics/metrics.js';
import type { ComponentFactory } from '../serve/component.js';
import { noticeCounts } from '../notices/outbox.js';
import { queueStatus, type QueueStatus } from './cluster-status.js';
import { inboxBacklog, type InboxBacklog } from './inbox-backlog.js';

const CACHE_MS = 10_000;

/**
 * Gauges read at scrape time: the routing backlog (from PostgreSQL, the source of truth, so it is the
 * same whichever queue backend runs) and per recipient the unfetched files and the age of the oldest.
 */
export const operationsMetrics: ComponentFactory = async ({ config, database }) => {
  let backlog: { at: number; value: Promise<InboxBacklog[]> } | undefined;
  let queue: { at: number; value: Promise<QueueStatus> } | undefined;
  const cached = <T>(entry: { at: number; value: Promise<T> } | undefined, load: () => Promise<T>) =>
    entry && Date.now() - entry.at < CACHE_MS ? entry : { at: Date.now(), value: load() };

  const queueGauge = (name: string, help: string, value: (q: QueueStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        queue = cached(queue, () => queueStatus(database.pool));
        this.set(value(await queue.value));
      },
    });

  const gauges = [
    queueGauge('filudveksling_queue_depth', 'Transfers received but not yet delivered or rejected', (q) => q.inFlight),
    queueGauge('filudveksling_queue_oldest_job_seconds', 'Age of the oldest transfer not yet decided', (q) => q.oldestSeconds),
    queueGauge(
      'filudveksling_transfers_failed',
      'Transfers whose delivery failed after its retries (retry with filudveksling transfer retry)',
      (q) => q.failed,
    ),
    new Gauge({
      name: 'filudveksling_inbox_unfetched_files',
      help: 'Delivered files a recipient has neither read whole nor deleted',
      labelNames: ['system'] as const,
      registers: [registry],
      async collect() {
        backlog = cached(backlog, () => inboxBacklog(database.pool));
        this.reset();
        for (const b of await backlog.value) this.set({ system: b.system }, b.files);
      },
    }),
    new Gauge({
      name: 'filudveksling_inbox_oldest_unfetched_seconds',
      help: 'Age of the oldest file a recipient has not fetched',
      labelNames: ['system'] as const,
      registers: [registry],
      async collect() {
        backlog = cached(backlog, () => inboxBacklog(database.pool));
        this.reset();
        for (const b of await backlog.value) this.set({ system: b.system }, b.oldestSeconds);
      },
    }),
  ];
  let notices: { at: number; value: ReturnType<typeof noticeCounts> } | undefined;
  const noticeGauge = (name: string, help: string, value: (n: Awaited<ReturnType<typeof noticeCounts>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        notices = cached(notices, () => noticeCounts(database.pool));
        this.set(value(await notices.value));
      },
    });
  gauges.push(
    noticeGauge('filudveksling_notices_pending', 'Notices (SPEC §12) not yet mailed: waiting, or being sent', (n) => n.pending),
    noticeGauge('filudveksling_notices_failed', 'Notices that failed after their attempts, or whose node stopped mid-send (see filudveksling notice list --failed)', (n) => n.failed),
  );
  const names = gauges.map((g) => (g as unknown as { name: string }).name);
  log.debug({ op: 'metrics' }, 'operational gauges registered');
  return {
    name: 'operations-metrics',
    async stop() {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
};
