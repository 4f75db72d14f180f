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

export async function serviceUsage(db: Queryable, q: ServiceUsageQuery): Promise<ServiceUsageRow[]> {
  const starts = [q.from, ...(q.cuts ?? []).filter((d) => d > q.from && d < q.next)].sort();
  const source = usageSource({ from: q.from, next: q.next, cuts: starts }, 6);
  const { rows } = await db.query<ServiceUsageRow>(
    `WITH u AS (
       SELECT width_bucket(day, $3::date[]) - 1 AS segment, authority_id, sender_system_id, recipient_system_id,
              sum(deliveries) AS files, sum(bytes) AS bytes
         FROM ${source.sql} AS ud
        WHERE day >= $1::date AND day < $2::date AND ($4::int IS NULL OR authority_id = $4)
        GROUP BY 1, 2, 3, 4
     ), attributed AS (
       SELECT segment, authority_id, sender_system_id AS system_id, 'send' AS service, sum(files) AS files, sum(bytes) AS bytes FROM u GROUP BY 1, 2, 3
       UNION ALL
       SELECT segment, authority_id, recipient_system_id, 'fetch', sum(files), sum(bytes) FROM u GROUP BY 1, 2, 3
     )
     SELECT x.segment, x.authority_id AS "authorityId", coalesce(a.kommunekode, a.cvr, a.folder) AS authority, a.name AS "authorityName",
            v.id AS "vendorId", v.name AS vendor, s.id AS "systemId", s.username AS system, x.service,
            x.files::bigint AS files, x.bytes::bigint AS bytes
       FROM attributed x
       JOIN authorities a ON a.id = x.authority_id
       JOIN systems s ON s.id = x.system_id
       JOIN vendors v ON v.id = s.vendor_id
      WHERE ($5::int IS NULL OR v.id = $5)`,
    [q.from, q.next, starts, q.authorityId ?? null, q.vendorId ?? null, ...source.params],
  );
  // Sorted here rather than in SQL: PostgreSQL sorts tens of thousands of wide rows by collated text
  // on disk (work_mem), which took most of the query's time. One key per row, compared as strings.
  const key = (r: ServiceUsageRow) =>
    [/^[0-9]{4}$/.test(r.authority) ? '0' : '1', r.authority, r.vendor, r.system, r.service, String(r.segment).padStart(4, '0')].join('\u0000');
  return rows
    .map((r) => ({ r, k: key(r) }))
    .sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0))
    .map((x) => x.r);
}
