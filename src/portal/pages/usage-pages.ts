import type { FastifyInstance } from 'fastify';
import { listAuthorities } from '../../authority/list-authorities.js';
import type { Pool } from '../../db/pool.js';
import { listSystems } from '../../systems/list-systems.js';
import { usageReport, type UsageRow } from '../../usage/usage-report.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { renderPage, scopeOf, type Person } from './page-kit.js';
import { barChart } from './usage-chart.js';

/**
 * Forbrug (SPEC §11, §13): delivered transfers and bytes per month within the person's scope, as
 * two bar charts drawn on the server with the same figures in a table beside them, and the rows
 * behind them per system (vendors, operators) or for the authority's own data.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function usagePages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  app.get('/usage', { preHandler: requireLogin }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'read');
    const q = request.query as Record<string, string | undefined>;
    const period = {
      from: q.from && DAY.test(q.from) && !Number.isNaN(Date.parse(q.from)) ? q.from : defaultFrom(),
      to: q.to && DAY.test(q.to) && !Number.isNaN(Date.parse(q.to)) ? q.to : undefined,
    };
    const rows = await scopedUsage(pool, person, period);
    const months = monthly(rows);
    return renderPage(request, reply, 'usage', 'usage.title', {
      period,
      rows,
      months,
      filesChart: barChart(months.map((m) => ({ label: m.period, value: m.transfers }))),
      bytesChart: barChart(months.map((m) => ({ label: m.period, value: m.bytesDelivered }))),
      keyHeader: person.authority ? 'usage.col.authority' : 'usage.col.system',
    });
  });
}

/** The usage rows this person may see: its vendor's sending systems, its authority's data, or all. */
async function scopedUsage(pool: Pool, person: Person, period: { from?: string; to?: string }): Promise<UsageRow[]> {
  const scope = scopeOf(person);
  if ('authorityId' in scope) {
    const authority = (await listAuthorities(pool)).find((a) => a.id === scope.authorityId);
    const key = authority && (authority.kommunekode ?? authority.cvr ?? authority.folder);
    return (await usageReport(pool, { by: 'authority', ...period })).filter((r) => r.key === key);
  }
  const rows = await usageReport(pool, { by: 'system', ...period });
  if ('all' in scope) return rows;
  const mine = new Set((await listSystems(pool, { vendor: person.vendor?.name })).map((s) => s.uuid));
  return rows.filter((r) => mine.has(r.key));
}

/** Per month, the sum over the rows (months without deliveries are left out, as the report does). */
function monthly(rows: UsageRow[]): Array<{ period: string; transfers: number; deliveries: number; bytesDelivered: number }> {
  const by = new Map<string, { period: string; transfers: number; deliveries: number; bytesDelivered: number }>();
  for (const r of rows) {
    const m = by.get(r.period) ?? { period: r.period, transfers: 0, deliveries: 0, bytesDelivered: 0 };
    m.transfers += r.transfers;
    m.deliveries += r.deliveries;
    m.bytesDelivered += r.bytesDelivered;
    by.set(r.period, m);
  }
  return [...by.values()].sort((a, b) => a.period.localeCompare(b.period));
}

/** The first day of the month a year ago (Danish time): a year of months by default. */
function defaultFrom(now = new Date()): string {
  const [y, m] = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' }).format(now).split('-').map(Number) as [number, number];
  return `${y - 1}-${String(m).padStart(2, '0')}-01`;
}
