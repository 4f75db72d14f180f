import type { FastifyInstance } from 'fastify';
import { danishDay } from '../../agreements/danish-day.js';
import { parseDay } from '../../routes/validity-day.js';
import { dayAfter } from '../../prices/quarter.js';
import { periodOf, periodStarts, type UsagePeriod } from '../../usage/periods.js';
import { usageTotals, type UsageTotalRow } from '../../usage/service-usage.js';
import { personOf } from '../authorize.js';
import { scopeOf } from '../can.js';
import { Problem, problemResponses } from '../problem.js';
import { authorityOf, dayPattern, eachField } from './api-kit.js';
import { scopeFilter } from './agreements.js';

type Group = 'vendor' | 'system' | 'authority' | 'service';

const usageRowSchema = {
  $id: 'UsageRow',
  type: 'object',
  description: "Files delivered and their bytes (SPEC §13: counted for the sender's send and each recipient's fetch) in one period and group",
  properties: {
    period: { type: 'string', description: "'YYYY-MM' or 'YYYYQn'" },
    vendor: { type: 'string' },
    system: { type: 'string' },
    authority: { $ref: 'Authority#' },
    service: { enum: ['send', 'fetch'] },
    files: { type: 'integer' },
    bytes: { type: 'integer' },
  },
  required: ['period', 'files', 'bytes'],
} as const;

/**
 * /usage: usage counts per month or quarter, grouped by vendor, system, authority or service, within
 * the caller's scope (a vendor's systems; an authority's data). Counts only: prices are the
 * invoice's (SPEC §13), not this list's.
 */
/** The last day `to` may be: the day after it is still written YYYY-MM-DD. */
const LAST_DAY = '9999-12-30';

export async function usageApi(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;
  app.addSchema(usageRowSchema);

  app.get<{ Querystring: { from?: string; to?: string; by?: UsagePeriod; group?: Group } }>('/usage', {
    schema: {
      summary: 'Usage within your scope per month or quarter (default: this year by month, grouped by system)',
      tags: ['usage'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', pattern: dayPattern, description: 'first day, YYYY-MM-DD (default 1 January this year)' },
          to: { type: 'string', pattern: dayPattern, description: 'last day, YYYY-MM-DD (default today)' },
          by: { enum: ['month', 'quarter'] },
          group: { enum: ['vendor', 'system', 'authority', 'service'] },
        },
      },
      response: { 200: { type: 'array', items: { $ref: 'UsageRow#' } }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const scope = scopeFilter(scopeOf(personOf(request)));
    const today = danishDay(app.portal.clock());
    const q = request.query;
    const { from, to } = eachField({ from: () => parseDay(q.from ?? `${today.slice(0, 4)}-01-01`, 'from'), to: () => parseDay(q.to ?? today, 'to') });
    if (to < from) throw new Problem(400, `to ${to} is before from ${from}.`, [{ pointer: '#/to', field: 'to', detail: `is before from (${from})` }]);
    // The periods are counted up to the day after `to`, which must be a day too (no year 10000).
    if (to > LAST_DAY) throw new Problem(400, `to ${to} is past the last day usage is counted for (${LAST_DAY}).`, [{ pointer: '#/to', field: 'to', detail: `is after ${LAST_DAY}` }]);
    if (Number(to.slice(0, 4)) - Number(from.slice(0, 4)) > 10) throw new Problem(400, 'Ask for at most ten years at a time.', [{ pointer: '#/from', field: 'from', detail: 'is more than ten years before to' }]);
    const by = q.by ?? 'month';
    const group = q.group ?? 'system';
    const next = dayAfter(to);
    const cuts = periodStarts(from, next, by);
    const periods = [from, ...cuts].map((day) => periodOf(day, by));
    const rows = await usageTotals(pool, { from, next, cuts, group, ...scope });
    return inDanishOrder(rows, group).map(({ segment, authority, ...r }) => ({
      period: periods[segment]!,
      ...(authority ? { authority: authorityOf(authority) } : {}),
      ...r,
    }));
  });
}

/**
 * Danish order (æ, ø, å last), made once: `localeCompare(x, 'da')` builds a collator per call, which
 * was most of a year's usage for 500 systems (0.5 s of sorting 6,000 rows).
 */
const DANISH = new Intl.Collator('da');

/**
 * By period, then by the group's names in Danish order (æ, ø, å last): the names are ranked once
 * (a few hundred at most), the rows sorted by period and rank.
 */
function inDanishOrder(rows: UsageTotalRow[], group: Group): UsageTotalRow[] {
  const label = (r: UsageTotalRow): string => {
    switch (group) {
      case 'vendor':
        return r.vendor!;
      case 'system':
        return `${r.vendor}|${r.system}`;
      case 'authority':
        return [r.authority!.name, ...(r.authority!.kommunekode ? [r.authority!.kommunekode] : []), r.authority!.cvr ?? ''].join(' ');
      case 'service':
        return r.service!;
    }
  };
  const labels = rows.map(label);
  const rank = new Map([...new Set(labels)].sort(DANISH.compare).map((l, i) => [l, i]));
  // One number per row (period, then rank), worked out once: comparing it costs no lookups.
  const keys = labels.map((l, i) => rows[i]!.segment * rank.size + rank.get(l)!);
  const order = rows.map((_, i) => i);
  order.sort((i, j) => keys[i]! - keys[j]!);
  return order.map((i) => rows[i]!);
}
