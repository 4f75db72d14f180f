import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

/** `vendor add <name> [--cvr]`, `vendor list` (SPEC §8). */
export function registerVendor(program: Command): void {
  const vendor = program.command('vendor').description('vendors (leverandører) that own systems');

  vendor
    .command('add <name>')
    .description('add a vendor')
    .option('--cvr <cvr>', "the vendor's CVR number (8 digits)")
    .action(
      action(async (ctx, name: string, opts: { cvr?: string }) => {
        const { addVendor } = await import('../../vendors/add-vendor.js');
        const { quoteArg } = await import('../../vendors/find-vendor.js');
        const db = await ctx.db();
        const v = await addVendor(db.pool, { name, cvr: opts.cvr }, ctx.by);
        ctx.out.result(v, `Added vendor '${v.name}'${v.cvr ? ` (CVR ${v.cvr})` : ''}. Register its systems with 'filudveksling system register <user> --vendor ${quoteArg(v.name)} --ssh-key <file.pub>'.`);
      }),
    );

  vendor
    .command('list')
    .description('list vendors')
    .action(
      action(async (ctx) => {
        const { listVendors } = await import('../../vendors/find-vendor.js');
        const db = await ctx.db();
        const rows = await listVendors(db.pool);
        ctx.out.result(rows, () =>
          table(rows, [
            { header: 'VENDOR', value: (r) => r.name },
            { header: 'CVR', value: (r) => r.cvr },
            { header: 'SYSTEMS', value: (r) => r.systems, align: 'right' },
            { header: 'ADDED', value: (r) => r.createdAt },
          ], "No vendors yet; add one with 'filudveksling vendor add <name>'."),
        );
      }),
    );
}
