/** The periods usage is shown by: calendar months (`2026-11`) or quarters (`2026Q4`), by Danish day. */
export type UsagePeriod = 'month' | 'quarter';

/** The first days of the months (or quarters) after the one `first` is in, up to `next` (exclusive). */
export function periodStarts(first: string, next: string, period: UsagePeriod): string[] {
  const step = period === 'month' ? 1 : 3;
  const out: string[] = [];
  let [y, m] = [Number(first.slice(0, 4)), Number(first.slice(5, 7))];
  m -= (m - 1) % step; // the period's first month
  for (;;) {
    m += step;
    if (m > 12) [y, m] = [y + 1, m - 12];
    const day = `${y}-${String(m).padStart(2, '0')}-01`;
    if (day >= next) return out;
    out.push(day);
  }
}

/** The period a day (YYYY-MM-DD) is in: `2026-11` or `2026Q4`. */
export function periodOf(day: string, period: UsagePeriod): string {
  return period === 'month' ? day.slice(0, 7) : `${day.slice(0, 4)}Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
}
