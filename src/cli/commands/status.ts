import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('the cluster at a glance: nodes, SFTP sessions, routing backlog, recipients falling behind')
    .action(
      action(async (ctx) => {
        const { liveNodes, queueStatus } = await import('../../operations/cluster-status.js');
        const { inboxBacklog, isFallingBehind } = await import('../../operations/inbox-backlog.js');
        const { noticeCounts } = await import('../../notices/outbox.js');
        const db = await ctx.db();
        const [nodes, queue, backlog, notices] = await Promise.all([liveNodes(db.pool), queueStatus(db.pool), inboxBacklog(db.pool), noticeCounts(db.pool)]);
        const sessions = nodes.reduce((n, x) => n + x.sessions, 0);
        // SPEC §6: falling behind once the oldest unfetched delivery is older than NOTIFY_UNFETCHED_HOURS.
        const hours = ctx.config.notifyUnfetchedHours;
        const behind = backlog.filter((b) => isFallingBehind(b, hours));
        ctx.out.result({ nodes, sessions, queue, inboxes: backlog, fallingBehind: behind.map((b) => b.system), notices }, () =>
          [
            `Nodes (${nodes.length} alive):`,
            table(
              nodes,
              [
                { header: 'NODE', value: (n) => `${n.hostname}:${n.pid}` },
                { header: 'ROLE', value: (n) => n.role },
                { header: 'SESSIONS', value: (n) => n.sessions, align: 'right' },
                { header: 'MAILS NOTICES', value: (n) => n.mailsNotices },
                { header: 'STARTED', value: (n) => n.startedAt },
                { header: 'LAST SEEN', value: (n) => n.lastSeen },
              ],
              '  none — no serve node has reported in the last 30 s (is `filudveksling serve` running?)',
            ),
            '',
            `SFTP sessions: ${sessions}`,
            `Routing: ${queue.inFlight} transfer(s) in flight${queue.inFlight ? `, oldest ${duration(queue.oldestSeconds)}` : ''}; ` +
              `${queue.failed} failed${queue.failed ? ' (see `filudveksling transfer list --status failed`, then `transfer retry <uuid>`)' : ''}`,
            `Notices: ${notices.pending} waiting to be mailed; ${notices.failed} failed${notices.failed ? ' (see `filudveksling notice list --failed`)' : ''}`,
            ...(nodes.length > 0 && !nodes.some((n) => n.mailsNotices)
              ? ['  No running node mails them: they stay in the outbox and are shown only in the portal. Set SMTP_URL on the nodes of role router (or all) and restart them.']
              : []),
            '',
            `Recipients with unfetched files (${backlog.length}; ${behind.length} older than ${duration(hours * 3600)}):`,
            table(
              backlog,
              [
                { header: 'SYSTEM', value: (b) => b.system },
                { header: 'FILES', value: (b) => b.files, align: 'right' },
                { header: 'OLDEST', value: (b) => duration(b.oldestSeconds), align: 'right' },
                { header: '', value: (b) => (isFallingBehind(b, hours) ? 'FALLING BEHIND' : '') },
              ],
              '  none — every delivered file has been fetched or deleted',
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
