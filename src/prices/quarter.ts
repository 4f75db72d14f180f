import { UsageError } from '../errors.js';

/** A calendar quarter in Danish days: `first` inclusive, `next` exclusive (both YYYY-MM-DD). */
export interface Quarter {
  name: string;
  first: string;
  next: string;
  days: number;
}

/** `2026Q4` (also `2026q4`) → 2026-10-01 … 2027-01-01 (exclusive), 92 days. */
export function parseQuarter(text: string): Quarter {
  const m = /^([0-9]{4})[Qq]([1-4])$/.exec(text.trim());
  if (!m) throw new UsageError(`--quarter '${text}' is not a quarter: give <year>Q<1-4>, e.g. 2026Q4.`, { code: 'quarter-invalid', values: { quarter: text } });
  const year = Number(m[1]);
  const q = Number(m[2]);
  // Its days must be written YYYY-MM-DD and held by PostgreSQL: no year 0000, nothing after 9999.
  if (year === 0 || (year === 9999 && q === 4)) throw new UsageError(`--quarter '${text}' is outside the calendar: give one from 0001Q1 to 9999Q3, e.g. 2026Q4.`);
  const first = isoDay(year, (q - 1) * 3 + 1, 1);
  const next = q === 4 ? isoDay(year + 1, 1, 1) : isoDay(year, q * 3 + 1, 1);
  return { name: `${year}Q${q}`, first, next, days: daysBetween(first, next) };
}

export function isoDay(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whole days from `a` to `b` (calendar days; `b` exclusive). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The day before `day` (an exclusive end shown as the last day). */
export function dayBefore(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** The day after `day`. */
export function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
