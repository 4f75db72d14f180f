import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { danishDay } from '../../agreements/danish-day.js';
import type { AuthorityRow } from '../../authority/find-authority.js';
import { listAuthorities } from '../../authority/list-authorities.js';
import { csvCell } from '../../csv/csv-cell.js';
import { invoiceCsv } from '../../prices/invoice-csv.js';
import { invoiceForQuarter } from '../../prices/invoice.js';
import { listPrices } from '../../prices/prices.js';
import { parseQuarter } from '../../prices/quarter.js';
import { usagePage, usageReport } from '../../usage/usage-report.js';
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
/** The Forbrug pages' query (page and both CSVs); a bad value shows the page again naming it. */
const LABELS = { from: 'usage.field.from', to: 'usage.field.to', by: 'usage.field.by', quarter: 'usage.field.quarter', authority: 'usage.field.authority' } as const;
const usageQuerySchema = {
  type: 'object',
  properties: {
    from: day,
    to: day,
    by: choice(['month', 'quarter']),
    quarter: { type: 'string', pattern: '^$|^[0-9]{4}Q[1-4]$' },
    // Operators: whose invoice basis the page shows (kommunekode or CVR); none: the CSV has all.
    authority: { type: 'string', pattern: '^$|^[0-9]{4}$|^[0-9]{8}$' },
  },
} as const;
const withQuery = pageSchema({ querystring: usageQuerySchema });

export async function usagePages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  /** What the page shows: the totals per period and the first DETAIL_ROWS rows (the CSV has them all), priced for those who see prices. */
  async function pageOf({ q, priced, scope }: Asked) {
    return usagePage(pool, { ...scope, period: q.by, limit: DETAIL_ROWS, prices: priced ? await listPrices(pool) : undefined });
  }

  /**
   * Whose invoice basis: the authority's own; for operators (`choices`: every authority) the one
   * chosen (`?authority=`), or none: every authority's is the CSV's, not the page's (thousands of
   * lines). `unknown`: the chosen one is no authority.
   */
  async function invoiceScope(request: FastifyRequest, person: Person): Promise<{ authority?: string; unknown?: string; choices?: AuthorityRow[] }> {
    if (person.authority) return { authority: authorityRef(person) };
    const chosen = (request.query as Record<string, string | undefined>).authority || undefined;
    const choices = await listAuthorities(pool);
    if (chosen === undefined || choices.some((a) => a.kommunekode === chosen || a.cvr === chosen)) return { authority: chosen, choices };
    return { unknown: chosen, choices };
  }

  /** The page; with `problems` (a bad value in the query) it names them, shows what was typed and answers 400. */
  async function showUsage(request: FastifyRequest, reply: FastifyReply, problems: string[]) {
    const asked = askedOf(request, app.portal.clock());
    const { person, q, priced } = asked;
    const quarter = quarterOf(request, app.portal.clock());
    // The invoice basis is read beside the usage (both only read).
    const invoiceOf = async () => {
      const scope = priced ? await invoiceScope(request, person) : undefined;
      return { scope, basis: scope?.authority ? await invoiceForQuarter(pool, { quarter, authority: scope.authority }) : undefined };
    };
    const [{ rows, periods, more }, { scope, basis }] = await Promise.all([pageOf(asked), invoiceOf()]);
    if (scope?.unknown) problems.push(request.t('usage.bad.authority', { value: scope.unknown }));
    // An authority asked for by name has its block even with no lines; the page then says there is nothing to invoice.
    const invoice = basis && { ...basis, authorities: basis.authorities.filter((b) => b.lines.length > 0) };
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
      quarters: recentQuarters(app.portal.clock()),
      invoice,
      invoiceAuthorities: scope?.choices,
      invoiceAuthority: scope?.choices ? (scope.authority ?? '') : '',
      invoiceCsvQuery: new URLSearchParams({ quarter, ...(scope?.choices && scope.authority ? { authority: scope.authority } : {}) }).toString(),
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
    const { q, priced, scope } = askedOf(request, app.portal.clock());
    // Every row, with amounts only for those who see prices.
    const rows = await usageReport(pool, { by: 'service', ...scope, period: q.by, prices: priced });
    const header = ['period', 'authority', 'authority_name', 'vendor', 'system', 'service', 'files', 'bytes', ...(priced ? ['amount_ore'] : [])];
    const lines = rows.map((r) => [r.period, r.authority, r.authorityName, r.vendor, r.system, r.service, r.files, r.bytes, ...(priced ? [r.amountOre ?? ''] : [])].map(csvCell).join(','));
    return csvReply(reply, `forbrug-${q.from}${q.to ? `-${q.to}` : ''}.csv`, [header.join(','), ...lines].join('\n'));
  });

  /** The quarter's invoice basis (SPEC §13) as `usage invoice --csv` writes it: the authority's own, or (operators) the one chosen or all. */
  app.get('/usage/invoice.csv', { preHandler: requireLogin, ...withQuery }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'read');
    if (!seesPrices(person)) authorize(person, 'operate');
    const problems = queryProblems(request);
    const scope = await invoiceScope(request, person);
    if (problems.length > 0 || scope.unknown) return showUsage(request, reply, problems);
    const quarter = quarterOf(request, app.portal.clock());
    const invoice = await invoiceForQuarter(pool, { quarter, authority: scope.authority });
    return csvReply(reply, `fakturagrundlag-${quarter}${scope.authority ? `-${scope.authority}` : ''}.csv`, invoiceCsv(invoice).trimEnd());
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
  if (q.quarter && !knownQuarter(q.quarter)) problems.push(request.t('form.bad', { label: request.t(LABELS.quarter), value: q.quarter }));
  if (problems.length === 0 && q.from && q.to && q.to < q.from) {
    problems.push(request.t('usage.bad.order', { from: q.from, to: q.to }));
  }
  return problems;
}

/** Who asks (allowed to read), for which days, whether they see prices, and the scope of their figures. */
interface Asked {
  person: Person;
  q: { from: string; to?: string; by: 'month' | 'quarter' };
  priced: boolean;
  scope: { from: string; to?: string; authority?: string; vendor?: string };
}

function askedOf(request: FastifyRequest, now: Date): Asked {
  const person = personOf(request);
  authorize(person, 'read');
  const q = usageQuery(request, now);
  return { person, q, priced: seesPrices(person), scope: scopeOf(person, q) };
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

function usageQuery(request: FastifyRequest, now: Date): { from: string; to?: string; by: 'month' | 'quarter' } {
  const q = request.query as Record<string, string | undefined>;
  const day = (v: string | undefined) => (v && DAY.test(v) && isRealDay(v) ? v : undefined);
  const from = day(q.from) ?? yearAgo(now);
  const to = day(q.to);
  // A last day before the first is named on the page (queryProblems); the figures are then to today.
  return { from, to: to !== undefined && to < from ? undefined : to, by: q.by === 'quarter' ? 'quarter' : 'month' };
}

/** `?quarter=2026Q4` if it is one, else the present quarter (Danish time). */
function quarterOf(request: FastifyRequest, now: Date): string {
  return knownQuarter((request.query as Record<string, string | undefined>).quarter) ?? recentQuarters(now)[0]!;
}

/** The quarter's name if the text is one the calendar has (not 9999Q4, whose end is in year 10000). */
function knownQuarter(text: string | undefined): string | undefined {
  if (!text || !/^[0-9]{4}Q[1-4]$/.test(text)) return undefined;
  try {
    return parseQuarter(text).name;
  } catch {
    return undefined;
  }
}

/** The present quarter and the seven before it, newest first. */
function recentQuarters(now: Date): string[] {
  const [y, m] = danishDay(now).split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0, year = y, q = Math.floor((m - 1) / 3) + 1; i < 8; i++) {
    out.push(`${year}Q${q}`);
    q -= 1;
    if (q === 0) [q, year] = [4, year - 1];
  }
  return out;
}

function csvReply(reply: import('fastify').FastifyReply, filename: string, body: string) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(`${body}\n`);
}

/** The first day of the month a year ago (Danish time): a year of months by default. */
function yearAgo(now: Date): string {
  const [y, m] = danishDay(now).split('-').map(Number) as [number, number];
  return `${y - 1}-${String(m).padStart(2, '0')}-01`;
}
