import { UsageError } from '../errors.js';

/**
 * Whether 'YYYY-MM-DD' is a day of the calendar PostgreSQL can hold: not 2026-02-30 (a Date would
 * roll it over into March), and not in year 0000 (JavaScript has one, PostgreSQL not).
 */
export function isRealDay(t: string): boolean {
  const ms = Date.parse(`${t}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(t) && !t.startsWith('0000') && !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === t;
}

/** A calendar day 'YYYY-MM-DD' that exists (no 2026-02-30); bad usage otherwise. */
export function parseDay(text: string, option: string): string {
  const t = text.trim();
  if (!isRealDay(t)) {
    throw new UsageError(`${option} '${text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.`, { code: 'day-invalid', values: { day: text } });
  }
  return t;
}
