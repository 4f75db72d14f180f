import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

/** `notice list [--failed] [--to <email>]` (SPEC §12): the outbox, newest first. */
export function registerNotice(program: Command): void {
  const notice = program.command('notice').description('notices (SPEC §12): the outbox of mails to people');
  notice
    .command('list')
    .description('the outbox, newest first (at most 500)')
    .option('--failed', 'only notices that failed (or whose sending node stopped mid-send: uncertain)')
    .option('--to <email>', 'only notices to this address')
    .action(
      action(async (ctx, opts: { failed?: boolean; to?: string }) => {
        const { listNotices } = await import('../../notices/outbox.js');
        const db = await ctx.db();
        const rows = await listNotices(db.pool, opts);
        ctx.out.result(rows, () =>
          table(
            rows,
            [
              { header: 'ID', value: (r) => r.id, align: 'right' },
              { header: 'CREATED', value: (r) => r.createdAt.toISOString() },
              { header: 'EVENT', value: (r) => r.event },
              { header: 'TO', value: (r) => r.email },
              { header: 'STATE', value: (r) => r.state },
              { header: 'ATTEMPTS', value: (r) => String(r.attempts), align: 'right' },
              { header: 'SUBJECT', value: (r) => r.subject },
              { header: 'LAST ERROR', value: (r) => r.lastError },
            ],
            opts.failed ? 'No failed notices.' : 'No notices yet.',
          ),
        );
      }),
    );
}
