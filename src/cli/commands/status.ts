import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

/** A recipient whose oldest unfetched file is older than this is "falling behind". */
const BEHIND_SECONDS = 3600;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('the cluster at a glance: nodes, SFTP sessions, routing backlog, recipients falling behind')
    .action(
      action(async (ctx) => {
        const { liveNodes, queueStatus } = await import('../../operations/cluster-status.js');
        const { inboxBacklog } = await import('../../operations/inbox-backlog.js');
        const db = await ctx.db();
        const [nodes, queue, backlog] = await Promise.all([liveNodes(db.pool), queueStatus(db.pool), inboxBacklog(ctx.config.dataDir)]);
        const sessions = nodes.reduce((n, x) => n + x.sessions, 0);
        const behind = backlog.filter((b) => b.oldestSeconds >= BEHIND_SECONDS);
        ctx.out.result({ nodes, sessions, queue, inboxes: backlog, fallingBehind: behind.map((b) => b.system) }, () =>
          [
            `Nodes (${nodes.length} alive):`,
            table(
              nodes,
              [
                { header: 'NODE', value: (n) => `${n.hostname}:${n.pid}` },
                { header: 'ROLE', value: (n) => n.role },
                { header: 'SESSIONS', value: (n) => n.sessions, align: 'right' },
                { header: 'STARTED', value: (n) => n.startedAt },
                { header: 'LAST SEEN', value: (n) => n.lastSeen },
              ],
              '  none — no serve node has reported in the last 30 s (is `filudveksling serve` running?)',
            ),
            '',
            `SFTP sessions: ${sessions}`,
            `Routing: ${queue.inFlight} transfer(s) in flight${queue.inFlight ? `, oldest ${duration(queue.oldestSeconds)}` : ''}; ` +
              `${queue.failed} failed${queue.failed ? ' (see `filudveksling transfer list --status failed`, then `transfer retry <uuid>`)' : ''}`,
            '',
            `Recipients with unfetched files (${backlog.length}; ${behind.length} older than ${duration(BEHIND_SECONDS)}):`,
            table(
              backlog,
              [
                { header: 'SYSTEM', value: (b) => b.system },
                { header: 'FILES', value: (b) => b.files, align: 'right' },
                { header: 'OLDEST', value: (b) => duration(b.oldestSeconds), align: 'right' },
                { header: '', value: (b) => (b.oldestSeconds >= BEHIND_SECONDS ? 'FALLING BEHIND' : '') },
              ],
              '  none — every delivered file has been fetched',
            ),
          ].join('\n'),
        );
      }),
    );
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
