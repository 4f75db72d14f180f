import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invoiceCsv } from '../../prices/invoice-csv.js';
import { invoiceForQuarter } from '../../prices/invoice.js';
import { listPrices, perUsePriceWithin } from '../../prices/prices.js';
import { dayAfter, parseQuarter } from '../../prices/quarter.js';
import { usageBounds, usagePerMonth, usageReport, type MonthUsage, type ServiceUsageReportRow } from '../../usage/usage-report.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { badFields, choice, day, isRealDay, pageSchema, renderPage, type Person } from './page-kit.js';
import { barChart } from './usage-chart.js';

/**
 * Forbrug (SPEC §11, §13): files and bytes delivered per month or quarter within the person's
 * scope — two bar charts drawn on the server with the same figures in a table beside them, the
 * rows per vendor, system and service behind them, a CSV of those rows, and for the authority
 * (and operators) the prices and the quarter's invoice basis with its CSV. Vendors see counts,
 * never prices.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Rows of the breakdown table on the page; the CSV has every row. */
const DETAIL_ROWS = 500;
const FAR_FUTURE = '9999-12-31';
/** The Forbrug pages' query (page and both CSVs); a bad value shows the page again naming it. */
const LABELS = { from: 'usage.field.from', to: 'usage.field.to', by: 'usage.field.by', quarter: 'usage.field.quarter' } as const;
const usageQuerySchema = {
  type: 'object',
  properties: { from: day, to: day, by: choice(['month', 'quarter']), quarter: { type: 'string', pattern: '^$|^[0-9]{4}Q[1-4]$' } },
} as const;
const withQuery = pageSchema({ querystring: usageQuerySchema });

interface Period {
  period: string;
  files: number;
  bytes: number;
  amountOre: number | null;
}

export async function usagePages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  /** The person's usage rows for the period asked (all of them), and whether they see prices. */
  async function usageOf(request: FastifyRequest) {
    const person = personOf(request);
    authorize(person, 'read');
    const q = usageQuery(request);
    const priced = seesPrices(person);
    const rows = regroup(await usageReport(pool, { by: 'service', ...scopeOf(person, q), prices: priced }), q.by);
    return { person, q, rows, priced };
  }

  /**
   * What the page shows: the totals per period, and the first DETAIL_ROWS rows (the CSV has them
   * all). Each row's amount is rounded on its own, so a period's amount needs every row, but only
   * where a per-use price holds; otherwise the totals are summed in the database and only the
   * first periods' rows are read.
   */
  async function pageOf(request: FastifyRequest) {
    const person = personOf(request);
    authorize(person, 'read');
    const q = usageQuery(request);
    const priced = seesPrices(person);
    const scope = scopeOf(person, q);
    if (priced && perUsePriceWithin(await listPrices(pool), q.from, q.to ? dayAfter(q.to) : FAR_FUTURE)) {
      const rows = regroup(await usageReport(pool, { by: 'service', ...scope, prices: true }), q.by);
      return { person, q, priced, periods: totals(rows), rows: rows.slice(0, DETAIL_ROWS), more: rows.length > DETAIL_ROWS };
    }
    // The first period with usage, read beside the totals; if its rows are not enough, the rest of the range's.
    const days = await usageBounds(pool, q);
    if (!days) return { person, q, priced, periods: [], rows: [], more: false };
    const firstEnd = lastDayOf(q.by === 'month' ? days.first.slice(0, 7) : quarterName(days.first.slice(0, 7)));
    const to = q.to !== undefined && q.to < firstEnd ? q.to : firstEnd;
    const [months, rows] = await Promise.all([usagePerMonth(pool, scope), usageReport(pool, { by: 'service', ...scope, to, prices: priced })]);
    const periods = regroupMonths(months, q.by);
    if (rows.length <= DETAIL_ROWS && (q.to === undefined || q.to > to)) {
      rows.push(...(await usageReport(pool, { by: 'service', ...scope, from: dayAfter(to), prices: priced })));
    }
    const shown = regroup(rows, q.by);
    return { person, q, priced, periods, rows: shown.slice(0, DETAIL_ROWS), more: shown.length > DETAIL_ROWS };
  }

  /** The page; with `problems` (a bad value in the query) it names them, shows what was typed and answers 400. */
  async function showUsage(request: FastifyRequest, reply: FastifyReply, problems: string[]) {
    const person = personOf(request);
    authorize(person, 'read');
    const quarter = quarterOf(request);
    // The invoice basis is read beside the usage (both only read).
    const [{ q, rows, priced, periods, more }, invoice] = await Promise.all([
      pageOf(request),
      seesPrices(person) ? invoiceForQuarter(pool, { quarter, authority: authorityRef(person) }) : undefined,
    ]);
    const raw = request.query as Record<string, string | undefined>;
    const typed = problems.length > 0 ? { from: raw.from ?? q.from, to: raw.to ?? q.to ?? '' } : { from: q.from, to: q.to ?? '' };
    return renderPage(request, reply, 'usage', 'usage.title', {
      q,
      typed,
      problems,
      rows,
      more,
      shownRows: DETAIL_ROWS,
      periods,
      priced,
      quarter,
      quarters: recentQuarters(),
      invoice,
      filesChart: barChart(periods.map((p) => ({ label: p.period, value: p.files }))),
      bytesChart: barChart(periods.map((p) => ({ label: p.period, value: p.bytes })), { binary: true }),
      csvQuery: new URLSearchParams({ from: q.from, ...(q.to ? { to: q.to } : {}), by: q.by }).toString(),
    }, problems.length > 0 ? 400 : 200);
  }

  app.get('/usage', { preHandler: requireLogin, ...withQuery }, async (request, reply) => showUsage(request, reply, queryProblems(request)));

  /** The rows behind the page, for a spreadsheet (with amounts only for those who see prices). */
  app.get('/usage.csv', { preHandler: requireLogin, ...withQuery }, async (request, reply) => {
    const problems = queryProblems(request);
    if (problems.length > 0) return showUsage(request, reply, problems);
    const { q, rows, priced } = await usageOf(request);
    const header = ['period', 'authority', 'authority_name', 'vendor', 'system', 'service', 'files', 'bytes', ...(priced ? ['amount_ore'] : [])];
    const lines = rows.map((r) => [r.period, r.authority, r.authorityName, r.vendor, r.system, r.service, r.files, r.bytes, ...(priced ? [r.amountOre ?? ''] : [])].map(csvCell).join(','));
    return csvReply(reply, `forbrug-${q.from}${q.to ? `-${q.to}` : ''}.csv`, [header.join(','), ...lines].join('\n'));
  });

  /** The quarter's invoice basis (SPEC §13) as `usage invoice --csv` writes it: the authority's own, or (operators) all. */
  app.get('/usage/invoice.csv', { preHandler: requireLogin, ...withQuery }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'read');
    if (!seesPrices(person)) authorize(person, 'operate');
    const problems = queryProblems(request);
    if (problems.length > 0) return showUsage(request, reply, problems);
    const quarter = quarterOf(request);
    const invoice = await invoiceForQuarter(pool, { quarter, authority: authorityRef(person) });
    return csvReply(reply, `fakturagrundlag-${quarter}.csv`, invoiceCsv(invoice).trimEnd());
  });
}

/**
 * Each bad value of the query in the person's words: the schema's findings, then what a pattern
 * cannot see (a day that is no date, such as 2026-02-30; a last day before the first).
 */
function queryProblems(request: FastifyRequest): string[] {
  const problems = badFields(request, LABELS);
  if (problems.length > 0) return problems;
  const q = request.query as Record<string, string | undefined>;
  for (const field of ['from', 'to'] as const) {
    const v = q[field];
    if (v && !isRealDay(v)) problems.push(request.t('form.bad.day', { label: request.t(LABELS[field]), value: v }));
  }
  if (problems.length === 0 && q.from && q.to && q.to < q.from) {
    problems.push(request.t('usage.bad.order', { from: q.from, to: q.to }));
  }
  return problems;
}

/** Prices are the authority's own and the operators' (SPEC §13), never a vendor's. */
function seesPrices(person: Person): boolean {
  return person.vendor === undefined && (person.authority !== undefined || can(person, 'operate') === 'allowed');
}

function scopeOf(person: Person, q: { from: string; to?: string }) {
  return { from: q.from, to: q.to, authority: authorityRef(person), vendor: person.vendor?.name };
}

function authorityRef(person: Person): string | undefined {
  return person.authority ? (person.authority.kommunekode ?? person.authority.cvr ?? undefined) : undefined;
}

function usageQuery(request: FastifyRequest): { from: string; to?: string; by: 'month' | 'quarter' } {
  const q = request.query as Record<string, string | undefined>;
  const day = (v: string | undefined) => (v && DAY.test(v) && isRealDay(v) ? v : undefined);
  const from = day(q.from) ?? yearAgo();
  const to = day(q.to);
  // A last day before the first is named on the page (queryProblems); the figures are then to today.
  return { from, to: to !== undefined && to < from ? undefined : to, by: q.by === 'quarter' ? 'quarter' : 'month' };
}

/** `?quarter=2026Q4` if it is one, else the present quarter (Danish time). */
function quarterOf(request: FastifyRequest): string {
  const text = (request.query as Record<string, string | undefined>).quarter;
  if (text && /^[0-9]{4}Q[1-4]$/.test(text)) return parseQuarter(text).name;
  return recentQuarters()[0]!;
}

/** The present quarter and the seven before it, newest first. */
function recentQuarters(now = new Date()): string[] {
  const [y, m] = danishToday(now).split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0, year = y, q = Math.floor((m - 1) / 3) + 1; i < 8; i++) {
    out.push(`${year}Q${q}`);
    q -= 1;
    if (q === 0) [q, year] = [4, year - 1];
  }
  return out;
}

/** Rows of one month each, gathered into quarters when asked. */
function regroup(rows: ServiceUsageReportRow[], by: 'month' | 'quarter'): ServiceUsageReportRow[] {
  if (by === 'month') return rows;
  const out = new Map<string, ServiceUsageReportRow>();
  for (const r of rows) {
    const period = quarterName(r.period);
    const key = `${period}|${r.authority}|${r.vendor}|${r.system}|${r.service}`;
    const sum = out.get(key) ?? { ...r, period, files: 0, bytes: 0, ...(r.amountOre !== undefined ? { amountOre: null } : {}) };
    sum.files += r.files;
    sum.bytes += r.bytes;
    if (r.amountOre !== undefined && r.amountOre !== null) sum.amountOre = (sum.amountOre ?? 0) + r.amountOre;
    out.set(key, sum);
  }
  return [...out.values()];
}

/** Months' totals gathered into quarters when asked; no amounts (no per-use price held). */
function regroupMonths(months: MonthUsage[], by: 'month' | 'quarter'): Period[] {
  return totals(by === 'month' ? months : months.map((m) => ({ ...m, period: quarterName(m.period) })));
}

/** `2026-11` → `2026Q4`. */
function quarterName(month: string): string {
  return `${month.slice(0, 4)}Q${Math.floor((Number(month.slice(5, 7)) - 1) / 3) + 1}`;
}

/** The last day of a period (`2026-02` or `2026Q1`). */
function lastDayOf(period: string): string {
  const year = Number(period.slice(0, 4));
  const month = period[4] === 'Q' ? Number(period[5]) * 3 : Number(period.slice(5, 7));
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** Each period's files, bytes and amount (null where no row has one), in period order. */
function totals(rows: Array<{ period: string; files: number; bytes: number; amountOre?: number | null }>): Period[] {
  const by = new Map<string, Period>();
  for (const r of rows) {
    const p = by.get(r.period) ?? { period: r.period, files: 0, bytes: 0, amountOre: null };
    p.files += r.files;
    p.bytes += r.bytes;
    if (r.amountOre !== undefined && r.amountOre !== null) p.amountOre = (p.amountOre ?? 0) + r.amountOre;
    by.set(r.period, p);
  }
  return [...by.values()].sort((a, b) => a.period.localeCompare(b.period));
}

function csvCell(v: string | number): string {
  const s = String(v);
  // A cell a spreadsheet would take for a formula starts with a quote mark.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvReply(reply: import('fastify').FastifyReply, filename: string, body: string) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(`${body}\n`);
}

/** YYYY-MM-DD (Swedish dates read so) in Danish time; made once, as building a formatter is costly. */
const DANISH_DAY = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' });

function danishToday(now: Date): string {
  return DANISH_DAY.format(now);
}

/** The first day of the month a year ago (Danish time): a year of months by default. */
function yearAgo(now = new Date()): string {
  const [y, m] = danishToday(now).split('-').map(Number) as [number, number];
  return `${y - 1}-${String(m).padStart(2, '0')}-01`;
}
