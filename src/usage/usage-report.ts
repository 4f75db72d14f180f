import type { Queryable } from '../db/pool.js';

/**
 * The usage report (forbrugsoversigt) that municipalities are billed on: per calendar month (Danish
 * time) and per system, authority or InfRef, the transfers delivered, the deliveries made and the
 * bytes carried. Only transfers that reached a recipient count; rejected ones do not.
 */
export type UsageDimension = 'system' | 'authority' | 'infref';

export interface UsageQuery {
  by: UsageDimension;
  /** Inclusive first day, YYYY-MM-DD (Danish time). */
  from?: string;
  /** Inclusive last day, YYYY-MM-DD (Danish time). */
  to?: string;
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

const DIMENSIONS: Record<UsageDimension, { key: string; name: string; join: string }> = {
  system: { key: 's.uuid::text', name: 's.username', join: 'JOIN systems s ON s.id = t.sender_system_id' },
  authority: {
    key: "coalesce(a.kommunekode, a.cvr, a.folder)",
    name: 'a.name',
    join: 'JOIN authorities a ON a.id = t.authority_id',
  },
  infref: {
    key: "'FagsystemdefineredeDataRefGDPR' || i.number || '_' || i.version",
    name: "coalesce(i.title, '')",
    join: 'JOIN infrefs i ON i.id = t.infref_id',
  },
};

export async function usageReport(db: Queryable, q: UsageQuery): Promise<UsageRow[]> {
  const dim = DIMENSIONS[q.by];
  const { rows } = await db.query<UsageRow>(
    `WITH delivered AS (
       SELECT t.id, t.size_bytes, t.received_at, ${dim.key} AS key, ${dim.name} AS name,
              (SELECT count(*) FROM deliveries d WHERE d.transfer_id = t.id AND d.placed_at IS NOT NULL) AS deliveries
         FROM transfers t
         ${dim.join}
        WHERE ($1::date IS NULL OR t.received_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Copenhagen'))
          AND ($2::date IS NULL OR t.received_at < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen'))
     )
     SELECT to_char(received_at AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM') AS period,
            key, name,
            count(*)::int AS transfers,
            sum(deliveries)::int AS deliveries,
            coalesce(sum(size_bytes), 0)::bigint AS "bytesSent",
            coalesce(sum(size_bytes * deliveries), 0)::bigint AS "bytesDelivered"
       FROM delivered
      WHERE deliveries > 0
      GROUP BY 1, 2, 3
      ORDER BY 1, 2`,
    [q.from ?? null, q.to ?? null],
  );
  return rows;
}
