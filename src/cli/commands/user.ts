import { Option, type Command } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

const ROLE_CHOICES = ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'];

/** `user invite | list | disable | enable | reset | token` (SPEC §8): people of the portal (§11). */
export function registerUser(program: Command): void {
  const user = program.command('user').description('people of the self-service portal and their API tokens');

  user
    .command('invite <email>')
    .description('create a person and print their one-time invitation link (valid 72 h)')
    .addOption(new Option('--role <role>', 'what they may do').choices(ROLE_CHOICES).makeOptionMandatory())
    .option('--vendor <vendor>', 'the vendor a vendor-admin/vendor-user belongs to')
    .option('--authority <kommunekode|cvr>', 'the authority an authority-admin/authority-user belongs to')
    .option('--name <name>', 'their name, as the portal shows it')
    .action(
      action(async (ctx, email: string, opts: { role: string; vendor?: string; authority?: string; name?: string }) => {
        const [{ inviteUser }, { requireVendor }, { requireAuthority }, { systemClock }] = await Promise.all([
          import('../../accounts/invite-user.js'),
          import('../../vendors/find-vendor.js'),
          import('../../authority/require-authority.js'),
          import('../../accounts/clock.js'),
        ]);
        const db = await ctx.db();
        const vendorId = opts.vendor === undefined ? undefined : (await requireVendor(db.pool, opts.vendor)).id;
        const authorityId = opts.authority === undefined ? undefined : (await requireAuthority(db.pool, opts.authority, '--authority')).id;
        const role = opts.role as 'operator';
        const inv = await inviteUser(db.pool, { email, role, name: opts.name, vendorId, authorityId }, ctx.by, { publicUrl: ctx.config.portalPublicUrl, clock: systemClock });
        ctx.out.result(
          { email: inv.email, role: inv.role, link: inv.link.url, expiresAt: inv.link.expiresAt },
          `Invited ${inv.email} as ${inv.role}. Give them this one-time link (valid until ${inv.link.expiresAt.toISOString()}):\n${inv.link.url}`,
        );
      }),
    );

  user
    .command('list')
    .description('list people')
    .option('--vendor <vendor>', 'only the people of this vendor')
    .option('--authority <kommunekode|cvr>', 'only the people of this authority')
    .action(
      action(async (ctx, opts: { vendor?: string; authority?: string }) => {
        const [{ listUsers }, { requireVendor }, { requireAuthority }] = await Promise.all([
          import('../../accounts/list-users.js'),
          import('../../vendors/find-vendor.js'),
          import('../../authority/require-authority.js'),
        ]);
        const db = await ctx.db();
        const vendorId = opts.vendor === undefined ? undefined : (await requireVendor(db.pool, opts.vendor)).id;
        const authorityId = opts.authority === undefined ? undefined : (await requireAuthority(db.pool, opts.authority, '--authority')).id;
        const rows = await listUsers(db.pool, { vendorId, authorityId });
        const data = rows.map(({ id: _id, ...r }) => ({ ...r, state: r.disabled ? 'disabled' : r.active ? 'active' : 'invited' }));
        ctx.out.result(data, () =>
          table(data, [
            { header: 'EMAIL', value: (r) => r.email },
            { header: 'NAME', value: (r) => r.name || null },
            { header: 'ROLE', value: (r) => r.role },
            { header: 'ORGANISATION', value: (r) => r.vendor ?? r.authority },
            { header: 'STATE', value: (r) => r.state },
            { header: 'CREATED', value: (r) => r.createdAt },
          ], "No people yet; invite the first operator with 'filudveksling user invite <email> --role operator'."),
        );
      }),
    );

  for (const change of ['disable', 'enable'] as const) {
    user
      .command(`${change} <email>`)
      .description(
        change === 'disable'
          ? 'stop a person from logging in (ends their sessions; revokes their API tokens and one-time links for good)'
          : 'let a disabled person log in again with their password (tokens and links from before stay revoked)',
      )
      .action(
        action(async (ctx, email: string) => {
          const { setUserDisabled } = await import('../../accounts/manage-user.js');
          const db = await ctx.db();
          const r = await setUserDisabled(db.pool, email, change === 'disable', ctx.by);
          ctx.out.result(
            r,
            r.disabled
              ? `${r.email} is disabled; their sessions are ended and their API tokens and one-time links revoked.`
              : `${r.email} is enabled; they log in with their password (API tokens and links from before stay revoked: 'filudveksling user token' or 'user reset' makes new ones).`,
          );
        }),
      );
  }

  user
    .command('reset <email>')
    .description('print a one-time link (valid 72 h) to set a new password')
    .action(
      action(async (ctx, email: string) => {
        const [{ resetUser }, { systemClock }] = await Promise.all([import('../../accounts/manage-user.js'), import('../../accounts/clock.js')]);
        const db = await ctx.db();
        const r = await resetUser(db.pool, email, ctx.by, { publicUrl: ctx.config.portalPublicUrl, clock: systemClock });
        ctx.out.result({ email: r.email, link: r.link.url, expiresAt: r.link.expiresAt }, `One-time link for ${r.email} (valid until ${r.link.expiresAt.toISOString()}):\n${r.link.url}`);
      }),
    );

  user
    .command('token <email>')
    .description('make an API token for a person (shown once), or --revoke all of theirs')
    .option('--revoke', "revoke the person's API tokens")
    .action(
      action(async (ctx, email: string, opts: { revoke?: boolean }) => {
        const { createApiToken, revokeApiTokens } = await import('../../accounts/api-tokens.js');
        const db = await ctx.db();
        if (opts.revoke) {
          const r = await revokeApiTokens(db.pool, email, ctx.by);
          ctx.out.result(r, `Revoked ${r.revoked} API token(s) of ${r.email}.`);
        } else {
          const r = await createApiToken(db.pool, email, ctx.by);
          ctx.out.result(r, `API token for ${r.email} (shown only now; send it as 'Authorization: Bearer <token>'):\n${r.token}`);
        }
      }),
    );
}
