/**
 * Forbrug's bar charts (src/portal/pages/usage-chart.ts): the geometry the page draws as SVG. A count
 * of files reads in whole numbers; the period under each bar is short enough to fit and cannot be
 * read as a day.
 */
import { describe, expect, it } from '@jest/globals';
import { barChart } from '../src/portal/pages/usage-chart.js';

const months = (values: number[], first = '2025-11') =>
  values.map((value, i) => {
    const [y, m] = first.split('-').map(Number) as [number, number];
    const n = y * 12 + (m - 1) + i;
    return { label: `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`, value };
  });

describe('Forbrug bar chart', () => {
  it('ticks a count of files in whole numbers, however few or many', () => {
    for (const highest of [0, 1, 2, 3, 5, 7, 13, 50, 130, 999, 12_345]) {
      const { ticks } = barChart(months([highest]));
      expect({ highest, whole: ticks.every((t) => Number.isInteger(t.value)) }).toEqual({ highest, whole: true });
      expect(ticks.at(-1)!.value).toBeGreaterThanOrEqual(highest);
      // Not far above the highest bar either: at most twice it (and 4 for the smallest counts).
      expect(ticks.at(-1)!.value).toBeLessThanOrEqual(Math.max(4, 2 * highest));
    }
  });

  it('bytes keep their ticks at quarters of a round binary size', () => {
    expect(barChart(months([76]), { binary: true }).ticks.map((t) => t.value)).toEqual([0, 25, 50, 75, 100]);
    expect(barChart(months([3 * 1024 ** 2]), { binary: true }).ticks.at(-1)!.value).toBe(4 * 1024 ** 2);
  });

  it('names each month by its number, with the year under the first bar and under each January', () => {
    const { bars } = barChart(months([1, 2, 3, 4], '2025-11'));
    expect(bars.map((b) => [b.short, b.year])).toEqual([
      ['11', '2025'],
      ['12', undefined],
      ['1', '2026'],
      ['2', undefined],
    ]);
    // The whole period stays on the bar (its tooltip).
    expect(bars.map((b) => b.label)).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
  });

  it('names each quarter Q1–Q4, with the year under the first bar and under each Q1', () => {
    const { bars } = barChart(['2025Q4', '2026Q1', '2026Q2'].map((label) => ({ label, value: 1 })));
    expect(bars.map((b) => [b.short, b.year])).toEqual([
      ['Q4', '2025'],
      ['Q1', '2026'],
      ['Q2', undefined],
    ]);
  });
});
