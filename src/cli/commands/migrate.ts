import type { Command } from 'commander';
import { action } from '../context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the database migrations not yet applied (serve does this at start too)')
    .action(
      action(async (ctx) => {
        const { migrate } = await import('../../db/migrate.js');
        const db = await ctx.db({ migrate: false });
        const { applied, alreadyApplied } = await migrate(db.pool);
        ctx.out.result(
          { applied, alreadyApplied },
          applied.length
            ? `Applied ${applied.length} migration(s): ${applied.join(', ')}.`
            : `The database is up to date (${alreadyApplied} migrations applied earlier); nothing to do.`,
        );
      }),
    );
}
