import type { Invoice } from '../prices/invoice.js';
import type { ServiceUsageReportRow } from '../usage/usage-report.js';
import { formatDkk } from '../prices/money.js';
import { table } from './output.js';

/** `usage invoice` for people: one block per authority, its lines, its total. */
export function invoiceText(inv: Invoice): string {
  const head = `Invoice basis ${inv.quarter} (${inv.first} – ${inv.last}), amounts in DKK`;
  if (!inv.authorities.length) return `${head}\nNothing owed: no authority held an agreement or used a per-use priced service.`;
  const blocks = inv.authorities.map((b) => {
    const rows = b.lines.map((l) =>
      l.kind === 'buffet'
        ? { line: 'buffet', what: `${l.inhabitants ?? '?'} inhabitants × ${formatDkk(l.perInhabitantOre)} / 4 × ${l.days}/${l.quarterDays} days`, first: l.first, last: l.last, files: '', bytes: '', amount: l.amountOre === null ? 'inhabitants not set' : formatDkk(l.amountOre) }
        : { line: `per-use ${l.service}`, what: `${l.vendor} / ${l.system} (${formatDkk(l.perFileOre)}/file, ${formatDkk(l.perGibOre)}/GiB)`, first: l.first, last: l.last, files: String(l.files), bytes: String(l.bytes), amount: formatDkk(l.amountOre) },
    );
    rows.push({ line: 'total', what: '', first: '', last: '', files: '', bytes: '', amount: formatDkk(b.totalOre) });
    return `${b.authority} ${b.name}\n${table(rows, [
      { header: 'LINE', value: (r) => r.line },
      { header: 'WHAT', value: (r) => r.what },
      { header: 'FROM', value: (r) => r.first },
      { header: 'TO', value: (r) => r.last },
      { header: 'FILES', value: (r) => r.files, align: 'right' },
      { header: 'BYTES', value: (r) => r.bytes, align: 'right' },
      { header: 'AMOUNT', value: (r) => r.amount, align: 'right' },
    ])}`;
  });
  return [head, ...blocks, `Total ${formatDkk(inv.totalOre)} DKK`].join('\n\n');
}

/** `usage --by service [--prices]` for people; DKK `buffet` where no per-use price applied. */
export function serviceTable(rows: ServiceUsageReportRow[], prices: boolean): string {
  const dkk = (ore: number | null | undefined) => (ore === null || ore === undefined ? 'buffet' : formatDkk(ore));
  return table(
    rows,
    [
      { header: 'PERIOD', value: (r) => r.period },
      { header: 'AUTHORITY', value: (r) => r.authority },
      { header: 'VENDOR', value: (r) => r.vendor },
      { header: 'SYSTEM', value: (r) => r.system },
      { header: 'SERVICE', value: (r) => r.service },
      { header: 'FILES', value: (r) => r.files, align: 'right' },
      { header: 'BYTES', value: (r) => r.bytes, align: 'right' },
      ...(prices ? [{ header: 'DKK', value: (r: ServiceUsageReportRow) => dkk(r.amountOre), align: 'right' as const }] : []),
    ],
    'No delivered transfers in that period.',
  );
}
