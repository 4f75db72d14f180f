import { requireAuthority } from '../authority/require-authority.js';
import type { Queryable } from '../db/pool.js';
import { perUseAmount, perUseAmountSql, perUseSegments } from '../prices/per-use.js';
import { listPrices, perUsePriceWithin, type PriceRow } from '../prices/prices.js';
import { dayAfter } from '../prices/quarter.js';
import { requireVendor } from '../vendors/find-vendor.js';
import { firstPricedServiceUsage, firstServiceUsage, pricedTotals, serviceUsage, usageTotals, type ServiceUsageRow } from './service-usage.js';
import { periodOf, periodStarts, type UsagePeriod } from './periods.js';
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
  /** by service only: a row per month (the default) or per quarter. */
  period?: UsagePeriod;
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

/** A period's totals: `2026-11` (month) or `2026Q4` (quarter); the amount only where asked for prices (null: inside the buffet). */
export interface PagePeriod {
  period: string;
  files: number;
  bytes: number;
  amountOre?: number | null;
}

/**
 * What a page of usage shows (the portal's Forbrug): files and bytes per period as `by: 'service'`
 * counts them (once for the sender, once for each recipient), and the first `limit` rows of that
 * report (`more`: it has more), worked out in the database so that only what is shown leaves it.
 *
 * With `prices` (the price list: operators and the authority itself see prices), each row has its
 * per-use amount as usageReport prices it (null: inside the buffet), and each period the sum of
 * its rows' amounts. Periods without usage are left out.
 */
export async function usagePage(
  db: Queryable,
  q: Omit<UsageQuery, 'by' | 'prices'> & { period: UsagePeriod; limit: number; prices?: PriceRow[] },
): Promise<{ periods: PagePeriod[]; rows: ServiceUsageReportRow[]; more: boolean }> {
  const authority = q.authority === undefined ? undefined : await requireAuthority(db, q.authority, '--authority');
  const vendor = q.vendor === undefined ? undefined : await requireVendor(db, q.vendor);
  const range = await usageBounds(db, q);
  if (!range) return { periods: [], rows: [], more: false };
  const { first, next } = range;
  const scope = { authorityId: authority?.id, vendorId: vendor?.id };
  const starts = [first, ...periodStarts(first, next, q.period)];
  const name = (period: number) => periodOf(starts[period]!, q.period);
  const perUse = q.prices && perUsePriceWithin(q.prices, first, next) ? q.prices : undefined;
  // Segments: the periods, cut where a per-use price changes inside one (each segment has one price).
  const { starts: segments, price: prices } = perUseSegments(perUse ?? [], first, next, starts.slice(1));
  const periodIndex = segments.map((day) => starts.filter((start) => start <= day).length - 1);
  // The segments [from, next) as a query: each keeps its period and its prices.
  const within = (from: string, until: string) => {
    const at = segments.map((_, i) => i).filter((i) => segments[i]! >= from && segments[i]! < until);
    const pick = <T>(values: T[]) => at.map((i) => values[i]!);
    return { from, next: until, cuts: pick(segments).slice(1), ...scope, periods: pick(periodIndex), prices: { send: pick(prices.send), fetch: pick(prices.fetch) }, amountSql: perUseAmountSql };
  };
  // Without prices the amount is none (vendors) or null (inside the buffet).
  const noAmount = q.prices ? { amountOre: null } : {};
  const rowsOf = async (from: string, until: string, limit: number): Promise<ServiceUsageReportRow[]> => {
    const part = within(from, until);
    if (perUse) return (await firstPricedServiceUsage(db, { ...part, limit })).map((r) => ({ ...reportRow(r, name(r.period)), amountOre: r.amountOre }));
    return (await firstServiceUsage(db, { ...part, limit })).map((r) => ({ ...reportRow(r, name(part.periods[r.segment]!)), ...noAmount }));
  };
  // The first period's rows are read beside the totals; only if they are too few, the rest's.
  const firstNext = starts[1] ?? next;
  const [totals, rows] = await Promise.all([
    perUse
      ? pricedTotals(db, within(first, next))
      : usageTotals(db, { from: first, next, cuts: starts.slice(1), group: 'service', ...scope }).then((sums) => sums.map((r) => ({ period: r.segment, files: r.files, bytes: r.bytes, ...noAmount }))),
    rowsOf(first, firstNext, q.limit + 1),
  ]);
  if (rows.length <= q.limit && firstNext < next) rows.push(...(await rowsOf(firstNext, next, q.limit + 1 - rows.length)));
  const periods = new Map<number, PagePeriod>();
  for (const t of totals) {
    const p = periods.get(t.period) ?? { period: name(t.period), files: 0, bytes: 0, ...noAmount };
    p.files += t.files;
    p.bytes += t.bytes;
    if ('amountOre' in t && t.amountOre !== null && t.amountOre !== undefined) p.amountOre = (p.amountOre ?? 0) + t.amountOre;
    periods.set(t.period, p);
  }
  return { periods: [...periods.keys()].sort((x, y) => x - y).map((k) => periods.get(k)!), rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}

function reportRow(r: Omit<ServiceUsageRow, 'segment'>, period: string): ServiceUsageReportRow {
  return { period, authority: r.authority, authorityName: r.authorityName, vendor: r.vendor, system: r.system, service: r.service, files: r.files, bytes: r.bytes };
}

/** The days [first, next) of [from, to] that can hold usage (none: no usage there at all). */
export async function usageBounds(db: Queryable, q: { from?: string; to?: string }): Promise<{ first: string; next: string } | undefined> {
  // No row when there is no usage at all: greatest() and least() skip a NULL min or max, and gave the
  // days asked for (0001-01-01 … 10000-01-01) as if there were usage on them.
  const bounds = await db.query<{ first: string | null; next: string | null }>(
    `SELECT greatest(min(day), $1::date)::text AS first, (least(max(day), $2::date) + 1)::text AS next FROM usage_daily HAVING count(*) > 0`,
    [q.from ?? null, q.to ?? null],
  );
  const { first, next } = bounds.rows[0] ?? {};
  return first && next && first < next ? { first, next } : undefined;
}

async function byService(db: Queryable, q: UsageQuery & { authorityId?: number; vendorId?: number }): Promise<ServiceUsageReportRow[]> {
  const range = await usageBounds(db, q);
  if (!range) return [];
  const { first, next } = range;
  const period = q.period ?? 'month';
  const { starts, price } = perUseSegments(q.prices ? await listPrices(db) : [], first, next, periodStarts(first, next, period));
  const rows = await serviceUsage(db, { from: first, next, cuts: starts.slice(1), authorityId: q.authorityId, vendorId: q.vendorId });
  const periods = starts.map((day) => periodOf(day, period));
  // A period's rows in the order their first segment came (rows come in authority, system, service order).
  const byPeriod = new Map<string, ServiceUsageReportRow[]>();
  const out = new Map<string, ServiceUsageReportRow>();
  for (const r of rows) {
    const name = periods[r.segment]!;
    const key = `${name}|${r.authorityId}|${r.systemId}|${r.service}`;
    let row = out.get(key);
    if (!row) {
      row = { period: name, authority: r.authority, authorityName: r.authorityName, vendor: r.vendor, system: r.system, service: r.service, files: 0, bytes: 0, ...(q.prices ? { amountOre: null } : {}) };
      out.set(key, row);
      const rowsOfPeriod = byPeriod.get(name);
      if (rowsOfPeriod) rowsOfPeriod.push(row);
      else byPeriod.set(name, [row]);
    }
    row.files += r.files;
    row.bytes += r.bytes;
    const segmentPrice = price[r.service][r.segment];
    if (segmentPrice) row.amountOre = (row.amountOre ?? 0) + perUseAmount(r.files, r.bytes, segmentPrice);
  }
  return [...byPeriod.keys()].sort().flatMap((name) => byPeriod.get(name)!);
}
