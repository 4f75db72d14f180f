import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { UsageDimension, UsageRow } from '../../usage/usage-report.js';
import { action } from '../context.js';
import { table } from '../output.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('usage report (forbrugsoversigt): transfers, deliveries and bytes per month')
    .option('--from <date>', 'first day, YYYY-MM-DD (inclusive)')
    .option('--to <date>', 'last day, YYYY-MM-DD (inclusive)')
    .addOption(new Option('--by <dimension>', 'group by sending system, authority or InfRef').choices(['system', 'authority', 'infref']).default('system'))
    .option('--csv', 'comma-separated values with a header line')
    .action(
      action(async (ctx, opts: { from?: string; to?: string; by: UsageDimension; csv?: boolean }) => {
        const { usageReport } = await import('../../usage/usage-report.js');
        for (const [flag, value] of [['--from', opts.from], ['--to', opts.to]] as const) {
          if (value !== undefined && (!DATE.test(value) || Number.isNaN(Date.parse(value)))) {
            throw new UsageError(`${flag} takes a date as YYYY-MM-DD, got "${value}".`);
          }
        }
        if (opts.from && opts.to && opts.to < opts.from) {
          throw new UsageError(`--to (${opts.to}) is before --from (${opts.from}); swap them.`);
        }
        const db = await ctx.db();
        const rows = await usageReport(db.pool, { by: opts.by, from: opts.from, to: opts.to });
        if (opts.csv && !ctx.out.json) {
          process.stdout.write(toCsv(rows, opts.by));
          return;
        }
        ctx.out.result({ by: opts.by, from: opts.from ?? null, to: opts.to ?? null, rows }, () =>
          table(
            rows,
            [
              { header: 'PERIOD', value: (r) => r.period },
              { header: opts.by.toUpperCase(), value: (r) => r.key },
              { header: 'NAME', value: (r) => r.name },
              { header: 'TRANSFERS', value: (r) => r.transfers, align: 'right' },
              { header: 'DELIVERIES', value: (r) => r.deliveries, align: 'right' },
              { header: 'BYTES SENT', value: (r) => r.bytesSent, align: 'right' },
              { header: 'BYTES DELIVERED', value: (r) => r.bytesDelivered, align: 'right' },
            ],
            'No delivered transfers in that period.',
          ),
        );
      }),
    );
}

function toCsv(rows: UsageRow[], by: UsageDimension): string {
  const esc = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [`period,${by},name,transfers,deliveries,bytes_sent,bytes_delivered`];
  for (const r of rows) lines.push([r.period, r.key, r.name, r.transfers, r.deliveries, r.bytesSent, r.bytesDelivered].map(esc).join(','));
  return `${lines.join('\n')}\n`;
}
