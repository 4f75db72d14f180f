import { Command, Option } from 'commander';
import { serve } from '../../serve/serve.js';
import type { Role } from '../../serve/component.js';
import { setLogLevel } from '../../log.js';
import { action } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SFTP server, router workers, folder watcher and the health/metrics endpoint')
    .addOption(new Option('--role <role>', 'what this node runs').choices(['all', 'sftp', 'router']).default('all'))
    .action(
      action(async (ctx, opts: { role: Role }) => {
        setLogLevel(ctx.config.logLevel);
        const server = await serve(ctx.config, opts.role);
        ctx.out.note(`filudveksling is ready; health on http://${ctx.config.httpHost}:${server.httpPort}/readyz (Ctrl-C stops it)`);
        await new Promise<void>((resolve) => {
          const onSignal = (signal: string) => {
            ctx.out.note(`${signal}: stopping…`);
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            void server.stop().then(resolve);
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
      }),
    );
}
