import { Command, Option } from 'commander';
import type { Role } from '../../serve/component.js';
import { action } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SFTP server, router workers, folder watcher, the portal and the health/metrics endpoint')
    .addOption(new Option('--role <role>', 'what this node runs').choices(['all', 'sftp', 'router', 'portal']).default('all'))
    .action(
      action(async (ctx, opts: { role: Role }) => {
        // Loaded here, not at the top: the server's modules (ssh2, BullMQ…) would slow every other command.
        const [{ setLogLevel }, { serve }] = await Promise.all([import('../../log.js'), import('../../serve/serve.js')]);
        setLogLevel(ctx.config.logLevel);
        const server = await serve(ctx.config, opts.role);
        ctx.out.note(`filudveksling is ready; health on http://${ctx.config.httpHost}:${server.httpPort}/readyz (Ctrl-C stops it)`);
        for (const note of server.notes) ctx.out.note(note);
        await new Promise<void>((resolve) => {
          let stopping = false;
          const onSignal = (signal: string) => {
            if (stopping) {
              // A second signal: the operator will not wait for the drain.
              ctx.out.note(`${signal} again: exiting now; unfinished uploads are lost to their clients, routing resumes at the next start`);
              process.exit(1);
            }
            stopping = true;
            ctx.out.note(`${signal}: stopping (no new logins; uploads and routing jobs in progress may finish, up to the drain timeout; send it again to exit at once)…`);
            void server.stop().then(resolve, (err: unknown) => {
              ctx.out.note(`stopping failed: ${(err as Error).message}`);
              process.exitCode = 1;
              resolve();
            });
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
        // Stopped. A client a dependency left reconnecting (Redis away) must not keep the process alive.
        setTimeout(() => process.exit(), 2000).unref();
      }),
    );
}
