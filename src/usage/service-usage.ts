import type { QueryResultRow } from 'pg';
import type { Queryable } from '../db/pool.js';
import { usageSource } from './usage-source.js';

/**
 * Usage as SPEC §13 attributes it: delivered transfers (one per transfer and recipient) and their
 * bytes, counted for the data's authority, once for the sending system (service `send`) and once
 * for each receiving system (service `fetch`). Read from `usage_monthly` and `usage_daily`, which the
 * database keeps as deliveries are placed (migrations 070, 071; see usage-source.ts).
 */
export interface ServiceUsageQuery {
  /** First day, inclusive (YYYY-MM-DD, Danish time). */
  from: string;
  /** Day after the last, exclusive. */
  next: string;
  /**
   * Days that start a new segment within [from, next) (month starts, price changes): each row is
   * one segment's usage. `from` itself always starts segment 0.
   */
  cuts?: string[];
  authorityId?: number;
  /** That vendor's systems only (as sender for `send`, as recipient for `fetch`). */
  vendorId?: number;
}

export interface ServiceUsageRow {
  /** Index into [from, ...cuts]: the segment whose days these are. */
  segment: number;
  authorityId: number;
  authority: string;
  authorityName: string;
  vendorId: number;
  vendor: string;
  systemId: number;
  system: string;
  service: 'send' | 'fetch';
  files: number;
  bytes: number;
}

/** How an authority is named in usage rows: its kommunekode, else its CVR, else its folder. */
const AUTHORITY_KEY = 'coalesce(a.kommunekode, a.cvr, a.folder)';

/** What usage can be summed by besides the segment (the portal API's `group`). */
export type UsageGroup = 'vendor' | 'system' | 'authority' | 'service';

/** One segment's usage summed over everything but the group asked for; only that group's fields are set. */
export interface UsageTotalRow {
  segment: number;
  vendor?: string;
  system?: string;
  authority?: { cvr: string | null; kommunekode: string | null; name: string };
  service?: 'send' | 'fetch';
  files: number;
  bytes: number;
}

/** Per group: what the per-system halves are summed by (none: they are the answer), and what names the rows that are left. */
const GROUPS: Record<UsageGroup | 'all', { keys?: string[]; names: string; joins: string }> = {
  all: { names: 'g.authority_id AS "authorityId", g.system_id AS "systemId", g.service', joins: '' },

  vendor: { keys: ['s.vendor_id'], names: 'v.name AS vendor', joins: 'JOIN vendors v ON v.id = g.vendor_id' },
  system: { keys: ['h.system_id'], names: 'v.name AS vendor, s.username AS system', joins: 'JOIN systems s ON s.id = g.system_id JOIN vendors v ON v.id = s.vendor_id' },
  authority: {
    keys: ['h.authority_id'],
    names: "json_build_object('cvr', a.cvr, 'kommunekode', a.kommunekode, 'name', a.name) AS authority",
    joins: 'JOIN authorities a ON a.id = g.authority_id',
  },
  service: { keys: ['h.service'], names: 'g.service', joins: '' },
};

/**
 * The usage of [from, next) per segment, summed in the database by `group` (every field of
 * ServiceUsageRow for 'all'), so that only the answer's rows leave it.
 *
 * The rollup rows are summed in one pass into two halves (grouping sets): by sender (send) and by
 * recipient (fetch) — cheaper than doubling every row first. A vendor's scope reads the rows with
 * one of its systems at either end and keeps the halves of its own systems. Without it, summing by
 * authority or service needs no halves at all: each delivery counts once for its sender and once
 * for its recipient, so send and fetch are the same sums — an authority's files are twice its
 * deliveries, and `send` and `fetch` each are all of them.
 */
async function attributed<R extends QueryResultRow>(db: Queryable, q: ServiceUsageQuery, group: UsageGroup | 'all'): Promise<R[]> {
  const { sql, params } = summedSql(q, group);
  const g = GROUPS[group];
  const { rows } = await db.query<R>(`SELECT g.segment, ${g.names}, g.files::bigint AS files, g.bytes::bigint AS bytes FROM (${sql}) AS g ${g.joins}`, params);
  return rows;
}

/** attributed's sums, as SQL: segment, what the group keeps (ids), files, bytes; with `half`, only that service's rows of 'all'. */
function summedSql(q: ServiceUsageQuery, group: UsageGroup | 'all', half?: 'send' | 'fetch'): { sql: string; params: unknown[] } {
  const starts = [q.from, ...(q.cuts ?? []).filter((d) => d > q.from && d < q.next)].sort();
  const source = usageSource({ from: q.from, next: q.next, cuts: starts }, 2);
  const params: unknown[] = [starts, ...source.params];
  const param = (value: unknown) => `$${params.push(value)}::int`;
  const authority = q.authorityId === undefined ? undefined : param(q.authorityId);
  const vendor = q.vendorId === undefined ? undefined : param(q.vendorId);
  const where = [
    ...(authority ? [`ud.authority_id = ${authority}`] : []),
    ...(vendor ? [`(ud.sender_system_id IN (SELECT id FROM systems WHERE vendor_id = ${vendor}) OR ud.recipient_system_id IN (SELECT id FROM systems WHERE vendor_id = ${vendor}))`] : []),
  ];
  const from = `FROM ${source.sql} AS ud ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  const segment = 'width_bucket(ud.day, $1::date[]) - 1 AS segment';
  const byAuthority = group === 'all' || group === 'authority' ? 'ud.authority_id, ' : '';
  let summed: string;
  if (half) {
    const system = half === 'send' ? 'ud.sender_system_id' : 'ud.recipient_system_id';
    const one = `SELECT ${segment}, ud.authority_id, ${system} AS system_id, '${half}' AS service, sum(ud.deliveries)::bigint AS files, sum(ud.bytes)::bigint AS bytes
                   ${from} GROUP BY 1, 2, 3`;
    summed = vendor ? `SELECT h.* FROM (${one}) AS h JOIN systems s ON s.id = h.system_id WHERE s.vendor_id = ${vendor}` : one;
  } else if (!vendor && group === 'authority') {
    summed = `SELECT ${segment}, ud.authority_id, 2 * sum(ud.deliveries) AS files, 2 * sum(ud.bytes) AS bytes ${from} GROUP BY 1, 2`;
  } else if (!vendor && group === 'service') {
    summed = `SELECT h.segment, x.service, h.files, h.bytes
                FROM (SELECT ${segment}, sum(ud.deliveries) AS files, sum(ud.bytes) AS bytes ${from} GROUP BY 1) AS h
               CROSS JOIN (VALUES ('send'), ('fetch')) AS x(service)`;
  } else {
    const halves = `SELECT ${segment}, ${byAuthority}coalesce(ud.sender_system_id, ud.recipient_system_id) AS system_id,
                           CASE WHEN grouping(ud.sender_system_id) = 0 THEN 'send' ELSE 'fetch' END AS service,
                           sum(ud.deliveries)::bigint AS files, sum(ud.bytes)::bigint AS bytes
                      ${from}
                     GROUP BY GROUPING SETS ((1, ${byAuthority}ud.sender_system_id), (1, ${byAuthority}ud.recipient_system_id))`;
    const own = vendor ? `SELECT h.* FROM (${halves}) AS h JOIN systems s ON s.id = h.system_id WHERE s.vendor_id = ${vendor}` : halves;
    const keys = GROUPS[group].keys;
    summed = keys
      ? `SELECT h.segment, ${keys.map((k) => `${k} AS ${k.split('.')[1]}`).join(', ')}, sum(h.files) AS files, sum(h.bytes) AS bytes
           FROM (${own}) AS h ${group === 'vendor' ? 'JOIN systems s ON s.id = h.system_id' : ''}
          GROUP BY ${keys.map((_, i) => i + 2).concat(1).join(', ')}`
      : own;
  }
  return { sql: summed, params };
}

/**
 * The first `limit` rows of the usage, in the order a page shows them: by segment, then as
 * serviceUsage orders them (authority with municipalities first, vendor, system, service). Ordered
 * and cut in the database, so only the rows shown leave it; names compared by code point (C
 * collation), as JavaScript compares them.
 */
export async function firstServiceUsage(db: Queryable, q: ServiceUsageQuery & { limit: number }): Promise<ServiceUsageRow[]> {
  const { sql, params } = summedSql(q, 'all');
  const { rows } = await db.query<ServiceUsageRow>(firstRowsSql(`(${sql})`, 'segment', ['files', 'bytes'], q.limit), params);
  return rows;
}

/**
 * The first `limit` rows of `relation` (authority_id, system_id, service, its `period` column and
 * `columns`) in the page's order, named: by period, then as serviceUsage orders them. Authorities
 * and systems are ranked first (a hundred and a few hundred rows) and the rows ordered by those
 * numbers, so that only the rows shown are joined to their names.
 */
function firstRowsSql(relation: string, period: string, columns: string[], limit: number, lead = ''): string {
  return `SELECT ${lead}g.${period}, g.authority_id AS "authorityId", ${AUTHORITY_KEY} AS authority, a.name AS "authorityName", v.id AS "vendorId",
                 v.name AS vendor, g.system_id AS "systemId", s.username AS system, g.service, ${columns.map((c) => `g.${c}`).join(', ')}
            FROM (SELECT g.*, ar.rank AS authority_rank, sr.rank AS system_rank
                    FROM ${relation} AS g
                    JOIN (SELECT a.id, row_number() OVER (ORDER BY ${AUTHORITY_KEY} !~ '^[0-9]{4}$', ${AUTHORITY_KEY} COLLATE "C") AS rank FROM authorities a) AS ar
                      ON ar.id = g.authority_id
                    JOIN (SELECT s.id, row_number() OVER (ORDER BY v.name COLLATE "C", s.username COLLATE "C") AS rank FROM systems s JOIN vendors v ON v.id = s.vendor_id) AS sr
                      ON sr.id = g.system_id
                   ORDER BY g.${period}, ar.rank, sr.rank, g.service COLLATE "C"
                   LIMIT ${Math.max(0, Math.floor(limit))}) AS g
            JOIN authorities a ON a.id = g.authority_id JOIN systems s ON s.id = g.system_id JOIN vendors v ON v.id = s.vendor_id
           ORDER BY g.${period}, g.authority_rank, g.system_rank, g.service COLLATE "C"`;
}

/** A per-use price in øre (SPEC §13). */
export type PerUsePrice = { perFileOre: number | null; perGibOre: number | null };

export interface PricedUsageQuery extends ServiceUsageQuery {
  /** Per segment: the index of the period it belongs to (segments are periods cut at price changes). */
  periods: number[];
  /** Per segment: each service's per-use price on its days (null: inside the buffet). */
  prices: { send: Array<PerUsePrice | undefined>; fetch: Array<PerUsePrice | undefined> };
  /** The amount of files and bytes at a price, as SQL over SQL expressions (the prices module's perUseAmountSql). */
  amountSql: (files: string, bytes: string, perFileOre: string, perGibOre: string) => string;
}

export type PricedUsageRow = Omit<ServiceUsageRow, 'segment'> & { period: number; amountOre: number | null };

/**
 * attributed's rows per segment with their period and per-use amount, as SQL: each segment's
 * amount rounded on its own, as usageReport prices it (perUseAmount, here q.amountSql); NULL on
 * days without a per-use price for its service. Periods and prices are arrays by segment.
 */
function pricedSegmentsSql(q: PricedUsageQuery, half?: 'send' | 'fetch'): { sql: string; params: unknown[] } {
  const { sql, params } = summedSql(q, 'all', half);
  const at = (values: unknown[], type: string) => `($${params.push(values)}::${type}[])[g.segment + 1]`;
  const price = (service: 'send' | 'fetch', part: keyof PerUsePrice) => at(q.prices[service].map((p) => p?.[part] ?? null), 'bigint');
  const amount = `CASE WHEN g.service = 'send' THEN ${q.amountSql('g.files', 'g.bytes', price('send', 'perFileOre'), price('send', 'perGibOre'))}
                       ELSE ${q.amountSql('g.files', 'g.bytes', price('fetch', 'perFileOre'), price('fetch', 'perGibOre'))} END`;
  return { sql: `SELECT ${at(q.periods, 'int')} AS period, g.authority_id, g.system_id, g.service, g.files, g.bytes, ${amount} AS amount FROM (${sql}) AS g`, params };
}

/**
 * Each period's files, bytes and per-use amount (the sum of its segments' rounded amounts; null:
 * none priced), in period order. The send and the fetch halves are summed by two statements side
 * by side (on two of the pool's connections: a year's rows are most of the page's time).
 */
export async function pricedTotals(db: Queryable, q: PricedUsageQuery): Promise<Array<{ period: number; files: number; bytes: number; amountOre: number | null }>> {
  type Total = { period: number; files: number; bytes: number; amountOre: number | null };
  const halves = await Promise.all(
    (['send', 'fetch'] as const).map(async (half) => {
      const { sql, params } = pricedSegmentsSql(q, half);
      const sums = `SELECT g.period, sum(g.files)::bigint AS files, sum(g.bytes)::bigint AS bytes, sum(g.amount)::bigint AS "amountOre" FROM (${sql}) AS g GROUP BY 1`;
      return (await db.query<Total>(sums, params)).rows;
    }),
  );
  const totals = new Map<number, Total>();
  for (const t of halves.flat()) {
    const sum = totals.get(t.period);
    if (!sum) totals.set(t.period, { ...t });
    else {
      sum.files += t.files;
      sum.bytes += t.bytes;
      if (t.amountOre !== null) sum.amountOre = (sum.amountOre ?? 0) + t.amountOre;
    }
  }
  return [...totals.values()].sort((x, y) => x.period - y.period);
}

/**
 * The first `limit` rows (period × authority × system × service) in firstServiceUsage's order,
 * each with the sum of its segments' per-use amounts (null: none priced).
 */
export async function firstPricedServiceUsage(db: Queryable, q: PricedUsageQuery & { limit: number }): Promise<PricedUsageRow[]> {
  const { sql, params } = pricedSegmentsSql(q);
  const rows = `(SELECT g.period, g.authority_id, g.system_id, g.service, sum(g.files)::bigint AS files, sum(g.bytes)::bigint AS bytes, sum(g.amount)::bigint AS amount
                   FROM (${sql}) AS g GROUP BY 1, 2, 3, 4)`;
  const { rows: out } = await db.query<PricedUsageRow>(firstRowsSql(rows, 'period', ['files', 'bytes', 'amount AS "amountOre"'], q.limit), params);
  return out;
}

/** One row per segment × authority × system × service, ordered by authority (municipalities first), vendor, system, service, segment. */
export async function serviceUsage(db: Queryable, q: ServiceUsageQuery): Promise<ServiceUsageRow[]> {
  type Sum = Pick<ServiceUsageRow, 'segment' | 'authorityId' | 'systemId' | 'service' | 'files' | 'bytes'>;
  // The names are read once, not with every row: tens of thousands of rows name a few hundred systems.
  const [sums, authorities, systems] = await Promise.all([
    attributed<Sum>(db, q, 'all'),
    db.query<{ id: number; key: string; name: string }>(`SELECT a.id, ${AUTHORITY_KEY} AS key, a.name FROM authorities a`),
    db.query<{ id: number; system: string; vendorId: number; vendor: string }>('SELECT s.id, s.username AS system, v.id AS "vendorId", v.name AS vendor FROM systems s JOIN vendors v ON v.id = s.vendor_id'),
  ]);
  // Ordered as if by one key per row (municipality first, authority, vendor, system, service,
  // segment, compared as strings): each authority and each system is ranked once by its part of it.
  const authority = ranked(authorities.rows, (a) => `${/^[0-9]{4}$/.test(a.key) ? '0' : '1'}\u0000${a.key}`);
  const system = ranked(systems.rows, (s) => `${s.vendor}\u0000${s.system}`);
  const rows: ServiceUsageRow[] = [];
  const order: number[] = [];
  const segments = (q.cuts?.length ?? 0) + 1;
  for (const r of sums) {
    const a = authority.get(r.authorityId);
    const s = system.get(r.systemId);
    if (!a || !s) continue;
    order.push(((a.rank * system.size + s.rank) * 2 + (r.service === 'fetch' ? 0 : 1)) * segments + r.segment);
    rows.push({
      segment: r.segment,
      authorityId: r.authorityId,
      authority: a.row.key,
      authorityName: a.row.name,
      vendorId: s.row.vendorId,
      vendor: s.row.vendor,
      systemId: r.systemId,
      system: s.row.system,
      service: r.service,
      files: r.files,
      bytes: r.bytes,
    });
  }
  // One number per row ('fetch' < 'send'): authority rank, system rank, service, segment.
  return rows.map((_, i) => i).sort((i, j) => order[i]! - order[j]!).map((i) => rows[i]!);
}

/** Each row by id with its rank: the place of its key among the keys (compared as strings; equal keys, equal rank). */
function ranked<T extends { id: number }>(rows: T[], key: (row: T) => string): Map<number, { row: T; rank: number }> {
  const keys = [...new Set(rows.map(key))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const rank = new Map(keys.map((k, i) => [k, i]));
  return new Map(rows.map((row) => [row.id, { row, rank: rank.get(key(row))! }]));
}

/** Usage per segment and one group (vendor, system, authority or service), unordered. */
export async function usageTotals(db: Queryable, q: ServiceUsageQuery & { group: UsageGroup }): Promise<UsageTotalRow[]> {
  return attributed<UsageTotalRow>(db, q, q.group);
}
