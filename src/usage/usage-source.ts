/**
 * Where usage for [from, next) is read: whole months from `usage_monthly`, and from `usage_daily`
 * only the months a boundary cuts into — `from` or `next` not on the first of a month, or a cut
 * (a price change) inside a month. Every row's `day` is a day (or a month's first day) that lies
 * in one segment between the cuts, so `width_bucket(day, starts)` places it.
 */
export interface UsageSource {
  /** A FROM item (in parentheses, aliased by the caller) with day, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes. */
  sql: string;
  params: unknown[];
}

const COLUMNS = 'authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes';

/** `first` is the number of the first placeholder to use ($first … $first+3). */
export function usageSource(q: { from?: string; next?: string; cuts?: string[] }, first: number): UsageSource {
  const cutMonths = [q.from, q.next, ...(q.cuts ?? [])].filter((d): d is string => d !== undefined && !d.endsWith('-01')).map(monthOf);
  const [from, next, months, fromMonth] = [`$${first}::date`, `$${first + 1}::date`, `$${first + 2}::date[]`, `$${first + 3}::date`];
  // from's month is worked out here: date_trunc on a date is evaluated for every row (it depends on TimeZone).
  return {
    sql: `(SELECT month AS day, ${COLUMNS} FROM usage_monthly
            WHERE (${fromMonth} IS NULL OR month >= ${fromMonth}) AND (${next} IS NULL OR month < ${next})
              AND month <> ALL (${months})
           UNION ALL
           SELECT day, ${COLUMNS} FROM unnest(${months}) AS cut(month)
             JOIN usage_daily ON day >= cut.month AND day < (cut.month + interval '1 month')::date
            WHERE (${from} IS NULL OR day >= ${from}) AND (${next} IS NULL OR day < ${next}))`,
    params: [q.from ?? null, q.next ?? null, [...new Set(cutMonths)], q.from === undefined ? null : monthOf(q.from)],
  };
}

function monthOf(day: string): string {
  return `${day.slice(0, 7)}-01`;
}
