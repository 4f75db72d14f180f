import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

/** `route add | remove | list` (SPEC §8). Routes are per InfRef number: every version uses them. */
export function registerRoute(program: Command): void {
  const route = program.command('route').description('routes: (sender, InfRef, recipient, authority) with an optional validity period');

  route
    .command('add')
    .description('establish a route')
    .requiredOption('--sender <system>', 'the sending system (must own the InfRef)')
    .requiredOption('--infref <ref>', 'FagsystemdefineredeDataRefGDPR<n>_<v> (the route covers every version of <n>)')
    .requiredOption('--recipient <system>', 'the receiving system')
    .requiredOption('--authority <kommunekode|cvr>', 'the authority the data is for')
    .option('--valid-from <date>', 'first valid day, YYYY-MM-DD (inclusive)')
    .option('--valid-to <date>', 'last valid day, YYYY-MM-DD (inclusive)')
    .action(
      action(async (ctx, opts: { sender: string; infref: string; recipient: string; authority: string; validFrom?: string; validTo?: string }) => {
        const { authorityLabel } = await import('../../authority/require-authority.js');
        const { addRoute, period } = await import('../../routes/add-route.js');
        const { listRoutes } = await import('../../routes/list-routes.js');
        const db = await ctx.db();
        const r = await addRoute(db.pool, opts, ctx.by);
        const [row] = await listRoutes(db.pool).then((all) => all.filter((x) => x.id === r.id));
        ctx.out.result(
          { ...r, sender: opts.sender, recipient: opts.recipient },
          `Added route ${r.id}: ${opts.sender} → ${opts.recipient} for InfRef ${r.infrefNumber} (every version) and ${row ? authorityLabel({ ...row, name: row.authority }) : opts.authority}, ${period(r.validFrom, r.validTo)}.`,
        );
      }),
    );

  route
    .command('remove <id>')
    .description('remove a route (kept in the audit trail)')
    .action(
      action(async (ctx, id: string) => {
        const { removeRoute } = await import('../../routes/remove-route.js');
        const db = await ctx.db();
        const r = await removeRoute(db.pool, id, ctx.by);
        ctx.out.result({ ...r, removed: true }, `Removed route ${r.id}.`);
      }),
    );

  route
    .command('list')
    .description('list routes not removed')
    .option('--sender <system>', 'only from this system')
    .option('--recipient <system>', 'only to this system')
    .option('--authority <kommunekode|cvr>', 'only for this authority')
    .action(
      action(async (ctx, opts: { sender?: string; recipient?: string; authority?: string }) => {
        const { authorityLabel } = await import('../../authority/require-authority.js');
        const { listRoutes } = await import('../../routes/list-routes.js');
        const db = await ctx.db();
        const rows = await listRoutes(db.pool, opts);
        ctx.out.result(rows, () =>
          table(rows, [
            { header: 'ID', value: (r) => r.id, align: 'right' },
            { header: 'SENDER', value: (r) => r.sender },
            { header: 'INFREF', value: (r) => r.infrefNumber, align: 'right' },
            { header: 'RECIPIENT', value: (r) => r.recipient },
            { header: 'AUTHORITY', value: (r) => authorityLabel({ ...r, name: r.authority }) },
            { header: 'FROM', value: (r) => r.validFrom },
            { header: 'TO', value: (r) => r.validTo },
          ], "No routes; add one with 'filudveksling route add'."),
        );
      }),
    );
}
