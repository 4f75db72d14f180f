import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../context.js';
import { table } from '../output.js';

/** `system register | update | key add|remove | disable | enable | list | show` (SPEC §8). */
export function registerSystemCommands(program: Command): void {
  const system = program.command('system').description('systems (anvendersystemer): SFTP users that send and receive');

  system
    .command('register <user>')
    .description('register a system with its first SSH public key, and make its home folder')
    .requiredOption('--vendor <vendor>', 'the vendor that owns it')
    .requiredOption('--ssh-key <file.pub>', 'its OpenSSH public key file')
    .option('--uuid <uuid>', 'its UUID (lower case, as in KOMBIT\'s Administrationsmodul); made if not given')
    .option('--inbox <layout>', 'per-authority (IN/<folder>/<name>) or flat (IN/<name>)', 'per-authority')
    .option('--metadata <format>', 'file-metadata or legacy (ns2:Trigger, for 2019-era clients)', 'file-metadata')
    .action(
      action(async (ctx, user: string, opts: { vendor: string; sshKey: string; uuid?: string; inbox: string; metadata: string }) => {
        const { registerSystem } = await import('../../systems/register-system.js');
        const { readPublicKeyFile } = await import('../../systems/ssh-public-key.js');
        const { homeDir } = await import('../../storage/homes.js');
        const key = await readPublicKeyFile(opts.sshKey);
        const db = await ctx.db();
        const s = await registerSystem(db.pool, { username: user, vendor: opts.vendor, key, uuid: opts.uuid, inbox: opts.inbox, metadata: opts.metadata }, { by: ctx.by, dataDir: ctx.config.dataDir });
        ctx.out.result(
          { ...s, home: homeDir(ctx.config.dataDir, s.username), key: { keyType: key.keyType, fingerprint: key.fingerprint, comment: key.comment } },
          `Registered system '${s.username}' (UUID ${s.uuid}, vendor ${opts.vendor}, inbox ${s.inboxLayout}, metadata ${s.metadataFormat}) with key ${key.fingerprint} (${key.keyType}); home ${homeDir(ctx.config.dataDir, s.username)}.`,
        );
      }),
    );

  system
    .command('update <user>')
    .description("change a system's inbox layout, metadata format or quota (bytes held in its OUT and the spool)")
    .option('--inbox <layout>', 'per-authority (IN/<folder>/<name>) or flat (IN/<name>)')
    .option('--metadata <format>', 'file-metadata or legacy (ns2:Trigger, for 2019-era clients)')
    .option('--quota <bytes>', 'bytes it may hold in OUT and the spool: a number of bytes or e.g. 100GiB (default 100GiB)')
    .action(
      action(async (ctx, user: string, opts: { inbox?: string; metadata?: string; quota?: string }) => {
        const { parseBytes, updateSystem } = await import('../../systems/update-system.js');
        const quotaBytes = opts.quota === undefined ? undefined : parseBytes(opts.quota);
        const db = await ctx.db();
        const s = await updateSystem(db.pool, user, { inbox: opts.inbox, metadata: opts.metadata, quotaBytes }, ctx.by);
        ctx.out.result({ system: user, ...s }, `Updated '${user}': inbox ${s.inboxLayout}, metadata ${s.metadataFormat}, quota ${s.quotaBytes} bytes (${(s.quotaBytes / 1024 ** 3).toFixed(2)} GiB).`);
      }),
    );

  const key = system.command('key').description("add or remove a system's SSH public keys (several may be active during a rotation)");
  key
    .command('add <user>')
    .description('add another SSH public key')
    .requiredOption('--ssh-key <file.pub>', 'an OpenSSH public key file')
    .action(
      action(async (ctx, user: string, opts: { sshKey: string }) => {
        const { readPublicKeyFile } = await import('../../systems/ssh-public-key.js');
        const { addSystemKey } = await import('../../systems/system-keys.js');
        const k = await readPublicKeyFile(opts.sshKey);
        const db = await ctx.db();
        const r = await addSystemKey(db.pool, user, k, ctx.by);
        ctx.out.result({ system: user, id: r.id, keyType: k.keyType, fingerprint: k.fingerprint, comment: k.comment, activeKeys: r.activeKeys }, `Added key ${k.fingerprint} (${k.keyType}) to '${user}'; it has ${r.activeKeys} active key(s).`);
      }),
    );
  key
    .command('remove <user>')
    .description('remove an SSH public key (it stops working at once)')
    .option('--ssh-key <file.pub>', 'the public key file to remove')
    .option('--fingerprint <SHA256:…>', 'or its fingerprint, as system show prints it')
    .action(
      action(async (ctx, user: string, opts: { sshKey?: string; fingerprint?: string }) => {
        const { removeSystemKey } = await import('../../systems/system-keys.js');
        if ((opts.sshKey === undefined) === (opts.fingerprint === undefined)) throw new UsageError('Name the key to remove with --ssh-key <file.pub> or --fingerprint <SHA256:…> (one of them).');
        // The key parser (ssh2) is loaded only when there is a key file to read.
        const fingerprint = opts.fingerprint ?? (await (await import('../../systems/ssh-public-key.js')).readPublicKeyFile(opts.sshKey!)).fingerprint;
        const db = await ctx.db();
        const r = await removeSystemKey(db.pool, user, fingerprint, ctx.by);
        ctx.out.result(
          { system: user, id: r.id, fingerprint, activeKeys: r.activeKeys },
          `Removed key ${fingerprint} from '${user}'; ${r.activeKeys ? `it has ${r.activeKeys} active key(s)` : 'it has no active key left and cannot log in until one is added'}.`,
        );
      }),
    );

  for (const [name, enabled] of [['disable', false], ['enable', true]] as const) {
    system
      .command(`${name} <user>`)
      .description(enabled ? 'let a disabled system log in again' : 'stop a system logging in, and end its open sessions')
      .action(
        action(async (ctx, user: string) => {
          const { setSystemEnabled } = await import('../../systems/set-system-enabled.js');
          const db = await ctx.db();
          await setSystemEnabled(db.pool, user, enabled, ctx.by);
          ctx.out.result({ system: user, enabled }, enabled ? `Enabled '${user}': it can log in again.` : `Disabled '${user}': it cannot log in, and its open sessions end.`);
        }),
      );
  }

  system
    .command('list')
    .description('list systems')
    .option('--vendor <vendor>', "only this vendor's systems")
    .action(
      action(async (ctx, opts: { vendor?: string }) => {
        const { listSystems } = await import('../../systems/list-systems.js');
        const db = await ctx.db();
        const rows = await listSystems(db.pool, opts);
        ctx.out.result(rows, () =>
          table(rows, [
            { header: 'USER', value: (r) => r.username },
            { header: 'UUID', value: (r) => r.uuid },
            { header: 'VENDOR', value: (r) => r.vendor },
            { header: 'ENABLED', value: (r) => r.enabled },
            { header: 'KEYS', value: (r) => r.activeKeys, align: 'right' },
            { header: 'INBOX', value: (r) => r.inboxLayout },
            { header: 'METADATA', value: (r) => r.metadataFormat },
          ], "No systems yet; register one with 'filudveksling system register <user> --vendor <vendor> --ssh-key <file.pub>'."),
        );
      }),
    );

  system
    .command('show <user>')
    .description('a system with its keys, InfRefs, routes and agreements')
    .action(
      action(async (ctx, user: string) => {
        const { showSystem } = await import('../../systems/list-systems.js');
        const { homeDir } = await import('../../storage/homes.js');
        const db = await ctx.db();
        const s = await showSystem(db.pool, user);
        ctx.out.result({ ...s, home: homeDir(ctx.config.dataDir, s.username) }, () =>
          [
            `System    ${s.username}`,
            `UUID      ${s.uuid}`,
            `Vendor    ${s.vendor}`,
            `Enabled   ${s.enabled ? 'yes' : 'no'}`,
            `Inbox     ${s.inboxLayout}`,
            `Metadata  ${s.metadataFormat}`,
            `Home      ${homeDir(ctx.config.dataDir, s.username)}`,
            '',
            'Keys',
            table(s.keys, [
              { header: 'TYPE', value: (k) => k.keyType },
              { header: 'FINGERPRINT', value: (k) => k.fingerprint },
              { header: 'COMMENT', value: (k) => k.comment },
              { header: 'ADDED', value: (k) => k.addedAt },
              { header: 'REMOVED', value: (k) => k.removedAt },
            ], 'No keys.'),
            '',
            'InfRefs',
            table(s.infrefs, [
              { header: 'INFREF', value: (i) => i.name },
              { header: 'STATUS', value: (i) => i.status },
              { header: 'DECLARATION', value: (i) => i.declaration },
            ], 'None owned.'),
            '',
            'Routes',
            table(s.routes, [
              { header: 'ID', value: (r) => r.id, align: 'right' },
              { header: 'DIRECTION', value: (r) => r.direction },
              { header: 'INFREF', value: (r) => r.infref, align: 'right' },
              { header: 'WITH', value: (r) => r.other },
              { header: 'AUTHORITY', value: (r) => r.authority },
              { header: 'FROM', value: (r) => r.validFrom },
              { header: 'TO', value: (r) => r.validTo },
            ], 'None.'),
            '',
            'Agreements',
            table(s.agreements, [
              { header: 'ID', value: (a) => a.id, align: 'right' },
              { header: 'SERVICE', value: (a) => a.service },
              { header: 'AUTHORITY', value: (a) => a.authority },
              { header: 'STATUS', value: (a) => a.status },
            ], 'None.'),
          ].join('\n'),
        );
      }),
    );
}
