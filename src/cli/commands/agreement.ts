import type { Command } from 'commander';
import type { AgreementRow } from '../../agreements/agreements.js';
import { UsageError } from '../../errors.js';
import { action } from '../context.js';
import { table } from '../output.js';

/** `agreement request | approve | reject | withdraw | terminate | list` (SPEC §8, §11): needed in production only. */
export function registerAgreement(program: Command): void {
  const agreement = program.command('agreement').description('service agreements (serviceaftaler): required in production, not in test');
  const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

  agreement
    .command('request')
    .description("record a system's request to use a service for one or more authorities")
    .requiredOption('--system <system>', 'the system')
    .requiredOption('--service <send|fetch>', 'send or fetch')
    .option('--authority <kommunekode|cvr>', 'the authority (repeat it, or separate with commas, for several)', collect)
    .option('--all-municipalities', 'every municipality at once (those with a pending or approved agreement are left out)')
    .action(
      action(async (ctx, opts: { system: string; service: string; authority?: string[]; allMunicipalities?: boolean }) => {
        if (Boolean(opts.authority?.length) === Boolean(opts.allMunicipalities)) throw new UsageError('Give --authority <kommunekode|cvr> (one or more) or --all-municipalities, not both.');
        const { ALL_MUNICIPALITIES, requestAgreements } = await import('../../agreements/agreements.js');
        const db = await ctx.db();
        const made = await requestAgreements(db.pool, { system: opts.system, service: opts.service, authorities: opts.allMunicipalities ? ALL_MUNICIPALITIES : opts.authority! }, ctx.by);
        const first = made[0]!;
        const single = !opts.allMunicipalities && made.length === 1;
        ctx.out.result(
          single ? first : made,
          single
            ? `Requested agreement ${first.id}: '${first.system}' may ${first.service} for ${label(first)} once approved ('filudveksling agreement approve ${first.id}').`
            : `Requested ${made.length} agreements (${made[0]!.id}–${made.at(-1)!.id}): '${first.system}' may ${first.service} for each authority once it approves.`,
        );
      }),
    );

  for (const decision of ['approve', 'reject'] as const) {
    agreement
      .command(`${decision} <id>`)
      .description(decision === 'approve' ? 'approve a requested agreement' : 'reject a requested agreement (with --reason)')
      .option('--reason <text>', decision === 'approve' ? 'why (optional)' : 'why (required; the vendor is told it)')
      .action(
        action(async (ctx, id: string, opts: { reason?: string }) => {
          const { changeAgreement } = await import('../../agreements/agreements.js');
          const db = await ctx.db();
          const a = await changeAgreement(db.pool, id, decision, { reason: opts.reason }, ctx.by);
          ctx.out.result(a, `${decision === 'approve' ? 'Approved' : 'Rejected'} agreement ${a.id}: '${a.system}' ${decision === 'approve' ? 'may' : 'may not'} ${a.service} for ${label(a)}.`);
        }),
      );
  }

  agreement
    .command('withdraw <id>')
    .description('withdraw a request still pending')
    .action(
      action(async (ctx, id: string) => {
        const { withdrawAgreement } = await import('../../agreements/agreements.js');
        const db = await ctx.db();
        const a = await withdrawAgreement(db.pool, id, ctx.by);
        ctx.out.result(a, `Withdrew agreement ${a.id}: '${a.system}' no longer asks to ${a.service} for ${label(a)}.`);
      }),
    );

  agreement
    .command('terminate <id>')
    .description('terminate (opsig) an approved agreement: from its effective day it counts as missing')
    .option('--reason <text>', 'why (required; the vendor is told it)')
    .option('--effective <date>', 'the first day it no longer counts, YYYY-MM-DD (default today)')
    .action(
      action(async (ctx, id: string, opts: { reason?: string; effective?: string }) => {
        const { terminateAgreement } = await import('../../agreements/agreements.js');
        const db = await ctx.db();
        const a = await terminateAgreement(db.pool, id, opts, ctx.by);
        ctx.out.result(a, `Terminated agreement ${a.id}: from ${a.effective} '${a.system}' may no longer ${a.service} for ${label(a)}.`);
      }),
    );

  agreement
    .command('list')
    .description('list agreements')
    .option('--system <system>', "only this system's")
    .option('--authority <kommunekode|cvr>', "only this authority's")
    .option('--status <status>', 'requested, approved, rejected, withdrawn or terminated')
    .action(
      action(async (ctx, opts: { system?: string; authority?: string; status?: string }) => {
        const { listAgreements } = await import('../../agreements/agreements.js');
        const db = await ctx.db();
        const rows = await listAgreements(db.pool, opts);
        ctx.out.result(rows, () =>
          table<AgreementRow>(rows, [
            { header: 'ID', value: (r) => r.id, align: 'right' },
            { header: 'SYSTEM', value: (r) => r.system },
            { header: 'SERVICE', value: (r) => r.service },
            { header: 'AUTHORITY', value: (r) => label(r) },
            { header: 'STATUS', value: (r) => (r.status === 'terminated' ? `terminated from ${r.effective}` : r.status) },
            { header: 'REASON', value: (r) => r.reason },
          ], "No agreements; request one with 'filudveksling agreement request'."),
        );
      }),
    );
}

/** `0751 Aarhus`, or `Region X (CVR 12345678)`. */
function label(a: Pick<AgreementRow, 'kommunekode' | 'cvr' | 'authority'>): string {
  return a.kommunekode ? `${a.kommunekode} ${a.authority}` : `${a.authority} (CVR ${a.cvr})`;
}
