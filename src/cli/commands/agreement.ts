import type { Command } from 'commander';
import type { AgreementRow } from '../../agreements/agreements.js';
import { action } from '../context.js';
import { table } from '../output.js';

/** `agreement request | approve | reject | list` (SPEC §8): needed in production only. */
export function registerAgreement(program: Command): void {
  const agreement = program.command('agreement').description('service agreements (serviceaftaler): required in production, not in test');

  agreement
    .command('request')
    .description("record a system's request to use a service for an authority")
    .requiredOption('--system <system>', 'the system')
    .requiredOption('--service <send|fetch>', 'send or fetch')
    .requiredOption('--authority <kommunekode|cvr>', 'the authority')
    .action(
      action(async (ctx, opts: { system: string; service: string; authority: string }) => {
        const { requestAgreement } = await import('../../agreements/agreements.js');
        const { authorityLabel } = await import('../../authority/require-authority.js');
        const db = await ctx.db();
        const a = await requestAgreement(db.pool, opts, ctx.by);
        ctx.out.result(a, `Requested agreement ${a.id}: '${a.system}' may ${a.service} for ${authorityLabel({ ...a, name: a.authority })} once approved ('filudveksling agreement approve ${a.id}').`);
      }),
    );

  for (const decision of ['approve', 'reject'] as const) {
    agreement
      .command(`${decision} <id>`)
      .description(`${decision} a requested agreement`)
      .option('--reason <text>', 'why')
      .action(
        action(async (ctx, id: string, opts: { reason?: string }) => {
          const { decideAgreement } = await import('../../agreements/agreements.js');
          const { authorityLabel } = await import('../../authority/require-authority.js');
          const db = await ctx.db();
          const a = await decideAgreement(db.pool, id, decision, opts.reason, ctx.by);
          ctx.out.result(a, `${decision === 'approve' ? 'Approved' : 'Rejected'} agreement ${a.id}: '${a.system}' ${decision === 'approve' ? 'may' : 'may not'} ${a.service} for ${authorityLabel({ ...a, name: a.authority })}.`);
        }),
      );
  }

  agreement
    .command('list')
    .description('list agreements')
    .option('--system <system>', "only this system's")
    .option('--status <status>', 'requested, approved or rejected')
    .action(
      action(async (ctx, opts: { system?: string; status?: string }) => {
        const { listAgreements } = await import('../../agreements/agreements.js');
        const { authorityLabel } = await import('../../authority/require-authority.js');
        const db = await ctx.db();
        const rows = await listAgreements(db.pool, opts);
        ctx.out.result(rows, () =>
          table<AgreementRow>(rows, [
            { header: 'ID', value: (r) => r.id, align: 'right' },
            { header: 'SYSTEM', value: (r) => r.system },
            { header: 'SERVICE', value: (r) => r.service },
            { header: 'AUTHORITY', value: (r) => authorityLabel({ ...r, name: r.authority }) },
            { header: 'STATUS', value: (r) => r.status },
            { header: 'REASON', value: (r) => r.reason },
          ], "No agreements; request one with 'filudveksling agreement request'."),
        );
      }),
    );
}
