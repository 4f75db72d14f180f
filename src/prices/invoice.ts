import { requireAuthority } from '../authority/require-authority.js';
import type { Queryable } from '../db/pool.js';
import { serviceUsage } from '../usage/service-usage.js';
import { agreementDays, buffetAmount, buffetParts } from './buffet.js';
import { perUseCuts, pricePerUse } from './per-use.js';
import { listPrices, perUsePriceWithin, spansWithin } from './prices.js';
import { dayBefore, parseQuarter } from './quarter.js';

/**
 * `usage invoice --quarter 2026Q4 [--authority …]` (SPEC §13): per authority, its buffet line(s)
 * (or none), then one per-use line per vendor, system and service, and a total. A price change
 * inside the quarter splits a line at its day. Amounts are øre; each line is rounded on its own.
 */
export interface InvoiceQuery {
  /** `2026Q4`. */
  quarter: string;
  /** Kommunekode or CVR: only that authority (its block is there even when it owes nothing). */
  authority?: string;
}

export interface BuffetLine {
  kind: 'buffet';
  first: string;
  last: string;
  /** Days counted (an agreement held) of the quarter's `quarterDays`. */
  days: number;
  quarterDays: number;
  inhabitants: number | null;
  perInhabitantOre: number;
  /** null when the authority's inhabitants are not set (see `warnings`). */
  amountOre: number | null;
}

export interface PerUseLine {
  kind: 'per-use';
  vendor: string;
  system: string;
  service: 'send' | 'fetch';
  first: string;
  last: string;
  files: number;
  bytes: number;
  perFileOre: number;
  perGibOre: number;
  amountOre: number;
}

export type InvoiceLine = BuffetLine | PerUseLine;

export interface InvoiceBlock {
  /** Kommunekode, else CVR. */
  authority: string;
  name: string;
  cvr: string | null;
  lines: InvoiceLine[];
  totalOre: number;
}

export interface Invoice {
  quarter: string;
  first: string;
  last: string;
  authorities: InvoiceBlock[];
  totalOre: number;
  /** What keeps the invoice from being whole (an authority without inhabitants), and the fix. */
  warnings: string[];
}

interface AuthorityInfo {
  id: number;
  kommunekode: string | null;
  cvr: string | null;
  name: string;
  folder: string;
  inhabitants: number | null;
}

export async function invoiceForQuarter(db: Queryable, q: InvoiceQuery): Promise<Invoice> {
  const quarter = parseQuarter(q.quarter);
  const only = q.authority === undefined ? undefined : await requireAuthority(db, q.authority, '--authority');
  const prices = await listPrices(db);
  const range = { from: quarter.first, next: quarter.next, authorityId: only?.id };
  const cuts = perUseCuts(prices, quarter.first, quarter.next);
  // Without a per-use price in the quarter there are no per-use lines: the usage need not be read.
  const [days, usage, authorities] = await Promise.all([
    agreementDays(db, range),
    perUsePriceWithin(prices, quarter.first, quarter.next) ? serviceUsage(db, { ...range, cuts }) : [],
    db.query<AuthorityInfo>('SELECT id, kommunekode, cvr, name, folder, inhabitants FROM authorities WHERE $1::int IS NULL OR id = $1 ORDER BY kommunekode IS NULL, kommunekode, name', [only?.id ?? null]),
  ]);
  const buffetSpans = spansWithin(prices, 'buffet', null, quarter.first, quarter.next);
  const perUse = pricePerUse(usage, [quarter.first, ...cuts], prices, quarter.next);
  const warnings: string[] = [];
  const blocks: InvoiceBlock[] = [];
  for (const a of authorities.rows) {
    const label = a.kommunekode ?? a.cvr ?? a.folder;
    const lines: InvoiceLine[] = [];
    for (const part of buffetParts(days.get(a.id) ?? [], buffetSpans)) {
      const perInhabitantOre = part.span.price.perInhabitantOre!;
      lines.push({
        kind: 'buffet',
        first: part.first,
        last: part.last,
        days: part.days,
        quarterDays: quarter.days,
        inhabitants: a.inhabitants,
        perInhabitantOre,
        amountOre: a.inhabitants === null ? null : buffetAmount(a.inhabitants, perInhabitantOre, part.days, quarter.days),
      });
    }
    if (a.inhabitants === null && lines.length) {
      warnings.push(`${label} ${a.name} owes the buffet price but its inhabitants are not set; set them with 'filudveksling authority update ${label} --inhabitants <n>'.`);
    }
    for (const p of perUse.filter((x) => x.row.authorityId === a.id)) {
      lines.push({
        kind: 'per-use',
        vendor: p.row.vendor,
        system: p.row.system,
        service: p.row.service,
        first: p.span.first,
        last: dayBefore(p.span.next),
        files: p.files,
        bytes: p.bytes,
        perFileOre: p.span.price.perFileOre!,
        perGibOre: p.span.price.perGibOre!,
        amountOre: p.amountOre,
      });
    }
    if (!lines.length && !only) continue;
    blocks.push({ authority: label, name: a.name, cvr: a.cvr, lines, totalOre: lines.reduce((sum, l) => sum + (l.amountOre ?? 0), 0) });
  }
  return {
    quarter: quarter.name,
    first: quarter.first,
    last: dayBefore(quarter.next),
    authorities: blocks,
    totalOre: blocks.reduce((sum, b) => sum + b.totalOre, 0),
    warnings,
  };
}
