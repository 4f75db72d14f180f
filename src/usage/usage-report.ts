import { requireAuthority } from '../authority/require-authority.js';
import type { Queryable } from '../db/pool.js';
import { perUseAmount } from '../prices/per-use.js';
import { listPrices, spansWithin } from '../prices/prices.js';
import { dayAfter } from '../prices/quarter.js';
import { requireVendor } from '../vendors/find-vendor.js';
import { serviceUsage, usageTotals } from './service-usage.js';
import { usageSource } from './usage-source.js';

/**
 * The usage report (forbrugsoversigt) per calendar month (Danish time), by the day a transfer was
 * delivered. Only transfers that reached a recipient count; rejected ones do not. Read from
 * `usage_monthly` and `usage_daily` (migrations 070, 071), not from every delivery.
 *
 * - by system | authority | infref: transfers delivered, deliveries made, bytes sent and bytes
 *   delivered (bytes × recipients), grouped by the sending system, the data's authority or InfRef;
 *   `vendor` keeps the transfers sent by that vendor's systems.
 * - by service: SPEC §13's attribution — per authority, vendor, system and service, the files
 *   delivered and their bytes, once for the sender (send) and once for each recipient (fetch);
 *   `vendor` keeps that vendor's systems. With `prices`, the per-use amount in øre (null: no per-use
 *   price on those days, the use is inside the buffet). Prices are for operators and the
 *   authority itself, never for vendors: the caller decides.
 */
export type UsageDimension = 'system' | 'authority' | 'infref' | 'service';

export interface UsageQuery {
  by: UsageDimension;
  /** Inclusive first day, YYYY-MM-DD (Danish time). */
  from?: string;
  /** Inclusive last day, YYYY-MM-DD (Danish time). */
  to?: string;
  /** Kommunekode or CVR: that authority's data only. */
  authority?: string;
  /** Vendor name. */
  vendor?: string;
  /** by service only: add per-use amounts. */
  prices?: boolean;
}

export interface UsageRow {
  period: string;
  key: string;
  name: string;
  transfers: number;
  deliveries: number;
  bytesSent: number;
  bytesDelivered: number;
}

export interface ServiceUsageReportRow {
  period: string;
  authority: string;
  authorityName: string;
  vendor: string;
  system: string;
  service: 'send' | 'fetch';
  files: number;
  bytes: number;
  /** Only with `prices`. */
  amountOre?: number | null;
}

const DIMENSIONS: Record<Exclude<UsageDimension, 'service'>, { key: string; name: string; join: string }> = {
  system: { key: 's.uuid::text', name: 's.username', join: 'JOIN systems s ON s.id = u.sender_system_id' },
  authority: { key: 'coalesce(a.kommunekode, a.cvr, a.folder)', name: 'a.name', join: 'JOIN authorities a ON a.id = u.authority_id' },
  infref: {
    key: "'FagsystemdefineredeDataRefGDPR' || i.number || '_' || i.version",
    name: "coalesce(i.title, '')",
    join: 'JOIN infrefs i ON i.id = u.infref_id',
  },
};

export function usageReport(db: Queryable, q: UsageQuery & { by: 'service' }): Promise<ServiceUsageReportRow[]>;
export function usageReport(db: Queryable, q: UsageQuery & { by: Exclude<UsageDimension, 'service'> }): Promise<UsageRow[]>;
export function usageReport(db: Queryable, q: UsageQuery): Promise<UsageRow[] | ServiceUsageReportRow[]>;
export async function usageReport(db: Queryable, q: UsageQuery): Promise<UsageRow[] | ServiceUsageReportRow[]> {
  const authority = q.authority === undefined ? undefined : await requireAuthority(db, q.authority, '--authority');
  const vendor = q.vendor === undefined ? undefined : await requireVendor(db, q.vendor);
  if (q.by === 'service') return byService(db, { ...q, authorityId: authority?.id, vendorId: vendor?.id });
  const dim = DIMENSIONS[q.by];
  const source = usageSource({ from: q.from, next: q.to === undefined ? undefined : dayAfter(q.to) }, 3);
  const { rows } = await db.query<UsageRow>(
    `SELECT to_char(u.day, 'YYYY-MM') AS period, ${dim.key} AS key, ${dim.name} AS name,
            sum(u.transfers)::int AS transfers, sum(u.deliveries)::int AS deliveries,
            sum(u.bytes_sent)::bigint AS "bytesSent", sum(u.bytes)::bigint AS "bytesDelivered"
       FROM ${source.sql} AS u
       ${dim.join}
      WHERE ($1::int IS NULL OR u.authority_id = $1)
        AND ($2::int IS NULL OR u.sender_system_id IN (SELECT id FROM systems WHERE vendor_id = $2))
      GROUP BY 1, 2, 3
     HAVING sum(u.transfers) > 0
      ORDER BY 1, 2`,
    [authority?.id ?? null, vendor?.id ?? null, ...source.params],
  );
  return rows;
}

export interface MonthUsage {
  /** YYYY-MM */
  period: string;
  files: number;
  bytes: number;
}

/**
 * Files and bytes per month as `by: 'service'` counts them (once for the sender, once for each
 * recipient), each month the sum of that report's rows — but summed in the database, without a
 * row per authority, system and service: what a chart and a table per month need. Months without
 * usage are left out, as the report has no rows for them.
 */
export async function usagePerMonth(db: Queryable, q: Omit<UsageQuery, 'by' | 'prices'>): Promise<MonthUsage[]> {
  const authority = q.authority === undefined ? undefined : await requireAuthority(db, q.authority, '--authority');
  const vendor = q.vendor === undefined ? undefined : await requireVendor(db, q.vendor);
  const range = await usageBounds(db, q);
  if (!range) return [];
  const starts = [range.first, ...monthStarts(range.first, range.next)];
  const rows = await usageTotals(db, { from: range.first, next: range.next, cuts: starts.slice(1), group: 'service', authorityId: authority?.id, vendorId: vendor?.id });
  const months = new Map<number, MonthUsage>();
  for (const r of rows) {
    const month = months.get(r.segment) ?? { period: starts[r.segment]!.slice(0, 7), files: 0, bytes: 0 };
    month.files += r.files;
    month.bytes += r.bytes;
    months.set(r.segment, month);
  }
  return [...months.values()].sort((a, b) => (a.period < b.period ? -1 : 1));
}

/** The days [first, next) of [from, to] that can hold usage (none: no usage there at all). */
export async function usageBounds(db: Queryable, q: { from?: string; to?: string }): Promise<{ first: string; next: string } | undefined> {
  const bounds = await db.query<{ first: string | null; next: string | null }>(
    `SELECT greatest(min(day), $1::date)::text AS first, (least(max(day), $2::date) + 1)::text AS next FROM usage_daily`,
    [q.from ?? null, q.to ?? null],
  );
  const { first, next } = bounds.rows[0]!;
  return first && next && first < next ? { first, next } : undefined;
}

async function byService(db: Queryable, q: UsageQuery & { authorityId?: number; vendorId?: number }): Promise<ServiceUsageReportRow[]> {
  const range = await usageBounds(db, q);
  if (!range) return [];
  const { first, next } = range;
  const months = monthStarts(first, next);
  const prices = q.prices ? await listPrices(db) : [];
  const changes = prices.filter((p) => p.model === 'per-use').map((p) => p.validFrom);
  const starts = [first, ...[...new Set([...months, ...changes])].filter((d) => d > first && d < next).sort()];
  const rows = await serviceUsage(db, { from: first, next, cuts: starts.slice(1), authorityId: q.authorityId, vendorId: q.vendorId });
  const spans = q.prices ? { send: spansWithin(prices, 'per-use', 'send', first, next), fetch: spansWithin(prices, 'per-use', 'fetch', first, next) } : undefined;
  // Per segment, worked out once: its month, and the per-use price of each service on its days.
  const periods = starts.map((day) => day.slice(0, 7));
  const priceOf = (service: 'send' | 'fetch') => starts.map((day) => spans?.[service].find((s) => s.first <= day && day < s.next));
  const segmentPrice = { send: priceOf('send'), fetch: priceOf('fetch') };
  // A month's rows in the order their first segment came (rows come in authority, system, service order).
  const byMonth = new Map<string, ServiceUsageReportRow[]>();
  const out = new Map<string, ServiceUsageReportRow>();
  for (const r of rows) {
    const period = periods[r.segment]!;
    const key = `${period}|${r.authorityId}|${r.systemId}|${r.service}`;
    let row = out.get(key);
    if (!row) {
      row = { period, authority: r.authority, authorityName: r.authorityName, vendor: r.vendor, system: r.system, service: r.service, files: 0, bytes: 0, ...(spans ? { amountOre: null } : {}) };
      out.set(key, row);
      const month = byMonth.get(period);
      if (month) month.push(row);
      else byMonth.set(period, [row]);
    }
    row.files += r.files;
    row.bytes += r.bytes;
    const span = segmentPrice[r.service][r.segment];
    if (span) row.amountOre = (row.amountOre ?? 0) + perUseAmount(r.files, r.bytes, span.price);
  }
  return [...byMonth.keys()].sort().flatMap((period) => byMonth.get(period)!);
}

/** The first days of the months after `first` up to `next` (exclusive). */
function monthStarts(first: string, next: string): string[] {
  const out: string[] = [];
  let [y, m] = [Number(first.slice(0, 4)), Number(first.slice(5, 7))];
  for (;;) {
    [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
    const day = `${y}-${String(m).padStart(2, '0')}-01`;
    if (day >= next) return out;
    out.push(day);
  }
}
