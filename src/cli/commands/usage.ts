import { Command, Option } from 'commander';
import { csvCell } from '../../csv/csv-cell.js';
import { UsageError } from '../../errors.js';
import type { ServiceUsageReportRow, UsageDimension, UsageRow } from '../../usage/usage-report.js';
import { action } from '../context.js';
import { table } from '../output.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface UsageOptions {
  from?: string;
  to?: string;
  by?: UsageDimension;
  authority?: string;
  vendor?: string;
  prices?: boolean;
  csv?: boolean;
}

/** `usage` (forbrugsoversigt) and `usage invoice` (SPEC §8, §13). */
export function registerUsage(program: Command): void {
  const usage = program
    .command('usage')
    .description('usage report (forbrugsoversigt): transfers, deliveries and bytes per month; `usage invoice` for a quarter')
    .option('--from <date>', 'first day, YYYY-MM-DD (inclusive)')
    .option('--to <date>', 'last day, YYYY-MM-DD (inclusive)')
    .addOption(
      new Option('--by <dimension>', 'group by sending system, authority, InfRef, or per system and service (SPEC §13; default with --prices)').choices(['system', 'authority', 'infref', 'service']),
    )
    .option('--authority <kommunekode|cvr>', "only that authority's data")
    .option('--vendor <name>', "only that vendor's systems (the senders; with --by service, senders and recipients)")
    .option('--prices', 'per-use amounts per system and service (operators)')
    .option('--csv', 'comma-separated values with a header line')
    .action(
      action(async (ctx, opts: UsageOptions) => {
        const { usageReport } = await import('../../usage/usage-report.js');
        for (const [flag, value] of [['--from', opts.from], ['--to', opts.to]] as const) {
          if (value !== undefined && (!DATE.test(value) || Number.isNaN(Date.parse(value)))) {
            throw new UsageError(`${flag} takes a date as YYYY-MM-DD, got "${value}".`);
          }
        }
        if (opts.from && opts.to && opts.to < opts.from) {
          throw new UsageError(`--to (${opts.to}) is before --from (${opts.from}); swap them.`);
        }
        if (opts.prices && opts.by !== undefined && opts.by !== 'service') {
          throw new UsageError(`--prices gives per-use amounts per system and service; it does not go with --by ${opts.by} (use --by service, or leave --by out).`);
        }
        const by: UsageDimension = opts.by ?? (opts.prices ? 'service' : 'system');
        const db = await ctx.db();
        const query = { by, from: opts.from, to: opts.to, authority: opts.authority, vendor: opts.vendor, prices: Boolean(opts.prices) };
        if (by === 'service') {
          const rows = await usageReport(db.pool, { ...query, by });
          if (opts.csv && !ctx.out.json) return void process.stdout.write(serviceCsv(rows, query.prices));
          const { serviceTable } = await import('../usage-text.js');
          ctx.out.result({ by, from: opts.from ?? null, to: opts.to ?? null, rows }, () => serviceTable(rows, query.prices));
          return;
        }
        const rows = await usageReport(db.pool, { ...query, by });
        if (opts.csv && !ctx.out.json) return void process.stdout.write(toCsv(rows, by));
        ctx.out.result({ by, from: opts.from ?? null, to: opts.to ?? null, rows }, () =>
          table(
            rows,
            [
              { header: 'PERIOD', value: (r) => r.period },
              { header: by.toUpperCase(), value: (r) => r.key },
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

  usage
    .command('invoice')
    .description("a quarter's invoice basis (SPEC §13): per authority its buffet line, per-use lines and total")
    .requiredOption('--quarter <YYYYQn>', 'the quarter, e.g. 2026Q4')
    .option('--authority <kommunekode|cvr>', 'only that authority')
    .option('--csv', 'comma-separated values with a header line')
    .action(
      action(async (ctx, own: { quarter: string; authority?: string; csv?: boolean }) => {
        // commander hands --authority and --csv to `usage` (it has options of those names) even
        // after `invoice`; they mean the same here.
        const opts = { ...usage.opts<{ authority?: string; csv?: boolean }>(), ...own };
        const [{ invoiceForQuarter }, { invoiceCsv }, { invoiceText }] = await Promise.all([
          import('../../prices/invoice.js'),
          import('../../prices/invoice-csv.js'),
          import('../usage-text.js'),
        ]);
        const db = await ctx.db();
        const invoice = await invoiceForQuarter(db.pool, { quarter: opts.quarter, authority: opts.authority });
        for (const w of invoice.warnings) process.stderr.write(`Warning: ${w}\n`);
        if (opts.csv && !ctx.out.json) return void process.stdout.write(invoiceCsv(invoice));
        ctx.out.result(invoice, () => invoiceText(invoice));
      }),
    );
}

function toCsv(rows: UsageRow[], by: UsageDimension): string {
  const lines = [`period,${by},name,transfers,deliveries,bytes_sent,bytes_delivered`];
  for (const r of rows) lines.push([r.period, r.key, r.name, r.transfers, r.deliveries, r.bytesSent, r.bytesDelivered].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

function serviceCsv(rows: ServiceUsageReportRow[], prices: boolean): string {
  const lines = [`period,authority,authority_name,vendor,system,service,files,bytes${prices ? ',amount_ore' : ''}`];
  for (const r of rows) {
    const cells = [r.period, r.authority, r.authorityName, r.vendor, r.system, r.service, r.files, r.bytes, ...(prices ? [r.amountOre] : [])];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
