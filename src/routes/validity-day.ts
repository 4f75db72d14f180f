import { UsageError } from '../errors.js';

/** A calendar day 'YYYY-MM-DD' that exists (no 2026-02-30); bad usage otherwise. */
export function parseDay(text: string, option: string): string {
  const t = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== t) {
    throw new UsageError(`${option} '${text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.`, { code: 'day-invalid', values: { day: text } });
  }
  return t;
}
