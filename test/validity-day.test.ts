/**
 * A calendar day as the CLI, the API and the pages take it: one that exists and PostgreSQL can
 * hold, from 0001-01-01 on; 2026-02-30 and year 0000 are named as not a date.
 */
import { describe, expect, it } from '@jest/globals';
import { isRealDay, parseDay } from '../src/routes/validity-day.js';

describe('parseDay', () => {
  it.each(['2026-01-31', '2024-02-29', '0001-01-01', '0050-06-01', '9999-12-31'])('takes %s', (day) => {
    expect(parseDay(` ${day} `, '--from')).toBe(day);
    expect(isRealDay(day)).toBe(true);
  });

  it.each(['2026-02-30', '2025-02-29', '0000-01-01', '2026-13-01', '26-01-31', '2026-1-31'])('names %s as not a date, with how to write one', (day) => {
    expect(isRealDay(day)).toBe(false);
    expect(() => parseDay(day, '--from')).toThrow(`--from '${day}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.`);
  });
});
