import type { Invoice } from './invoice.js';
import { csvCell } from '../csv/csv-cell.js';
import { formatDkk } from './money.js';

export const INVOICE_CSV_HEADER =
  'quarter,authority,name,line,vendor,system,service,first_day,last_day,days,inhabitants,files,bytes,price_per_inhabitant_dkk,price_per_file_dkk,price_per_gib_dkk,amount_ore,amount_dkk';

/**
 * The invoice basis as CSV (for spreadsheets and the portal's download): one row per line, then a
 * `total` row per authority. Prices and amounts in DKK with a decimal point; amounts also in øre.
 */
export function invoiceCsv(inv: Invoice): string {
  const out = [INVOICE_CSV_HEADER];
  const row = (cells: (string | number | null)[]) => out.push(cells.map(csvCell).join(','));
  for (const b of inv.authorities) {
    for (const l of b.lines) {
      if (l.kind === 'buffet') {
        row([inv.quarter, b.authority, b.name, 'buffet', '', '', '', l.first, l.last, l.days, l.inhabitants, '', '', formatDkk(l.perInhabitantOre), '', '', l.amountOre, dkk(l.amountOre)]);
      } else {
        row([inv.quarter, b.authority, b.name, 'per-use', l.vendor, l.system, l.service, l.first, l.last, '', '', l.files, l.bytes, '', formatDkk(l.perFileOre), formatDkk(l.perGibOre), l.amountOre, dkk(l.amountOre)]);
      }
    }
    row([inv.quarter, b.authority, b.name, 'total', '', '', '', inv.first, inv.last, '', '', '', '', '', '', '', b.totalOre, dkk(b.totalOre)]);
  }
  return `${out.join('\n')}\n`;
}

function dkk(ore: number | null): string {
  return ore === null ? '' : formatDkk(ore);
}
