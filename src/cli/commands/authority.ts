import type { Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

/** `authority add | update | list` (SPEC §8). The 98 municipalities are preloaded. */
export function registerAuthority(program: Command): void {
  const authority = program.command('authority').description('authorities (myndigheder): the 98 municipalities are preloaded');

  authority
    .command('add <cvr>')
    .description('add an authority that is not a municipality')
    .requiredOption('--name <name>', "the authority's name")
    .option('--folder <name>', 'its folder in recipients\' IN/ (default: the CVR number)')
    .action(
      action(async (ctx, cvr: string, opts: { name: string; folder?: string }) => {
        const { addAuthority } = await import('../../authority/add-authority.js');
        const db = await ctx.db();
        const a = await addAuthority(db.pool, { cvr, name: opts.name, folder: opts.folder }, ctx.by);
        ctx.out.result(a, `Added authority ${a.name} (CVR ${a.cvr}); files for it are delivered in IN/${a.folder}/.`);
      }),
    );

  authority
    .command('update <kommunekode|cvr>')
    .description("change an authority's CVR number, name, folder or inhabitants")
    .option('--cvr <cvr>', 'new CVR number')
    .option('--name <name>', 'new name')
    .option('--folder <name>', 'new folder (not for municipalities: theirs is the kommunekode)')
    .option('--inhabitants <n>', 'number of inhabitants (the buffet price is per inhabitant, SPEC §13)')
    .action(
      action(async (ctx, ref: string, opts: { cvr?: string; name?: string; folder?: string; inhabitants?: string }) => {
        const { authorityLabel } = await import('../../authority/require-authority.js');
        const { updateAuthority } = await import('../../authority/update-authority.js');
        const db = await ctx.db();
        const a = await updateAuthority(db.pool, ref, opts, ctx.by);
        ctx.out.result(a, `Updated ${authorityLabel(a)}: CVR ${a.cvr ?? '-'}, folder IN/${a.folder}/, inhabitants ${a.inhabitants ?? 'not set'}.`);
      }),
    );

  authority
    .command('list')
    .description('list authorities (municipalities first)')
    .action(
      action(async (ctx) => {
        const { listAuthorities } = await import('../../authority/list-authorities.js');
        const db = await ctx.db();
        const rows = await listAuthorities(db.pool);
        ctx.out.result(rows, () =>
          table(rows, [
            { header: 'KOMMUNEKODE', value: (r) => r.kommunekode },
            { header: 'CVR', value: (r) => r.cvr },
            { header: 'NAME', value: (r) => r.name },
            { header: 'FOLDER', value: (r) => r.folder },
            { header: 'INHABITANTS', value: (r) => r.inhabitants, align: 'right' },
          ]),
        );
      }),
    );
}
