import { buffetAmount } from '../src/prices/buffet.js';
import { divideHalfUp, formatDkk, parseDkk } from '../src/prices/money.js';
import { perUseAmount } from '../src/prices/per-use.js';
import { spansWithin, type PriceRow } from '../src/prices/prices.js';
import { parseQuarter } from '../src/prices/quarter.js';

describe('øre arithmetic (SPEC §13: integer øre, each line rounded half up)', () => {
  it('rounds a quotient half up, and only a half or more up', () => {
    expect([divideHalfUp(5n, 2n), divideHalfUp(3n, 2n), divideHalfUp(1n, 2n)]).toEqual([3n, 2n, 1n]);
    expect([divideHalfUp(24n, 10n), divideHalfUp(25n, 10n), divideHalfUp(26n, 10n)]).toEqual([2n, 3n, 3n]);
    expect([divideHalfUp(1n, 3n), divideHalfUp(2n, 3n), divideHalfUp(0n, 7n), divideHalfUp(9n, 3n)]).toEqual([0n, 1n, 0n, 3n]);
    expect(() => divideHalfUp(1n, 0n)).toThrow(RangeError);
  });

  it('works products past 2^53 out exactly', () => {
    // 2^53 + 1 is no JavaScript number (it reads as 2^53); in BigInt it stays exact.
    expect(divideHalfUp(2n ** 53n + 1n, 1n)).toBe(9_007_199_254_740_993n);
    // 50 PiB × 100,000.00 DKK/GiB = 52,428,800 GiB × 10,000,000 øre = 524,288,000,000,000 øre
    expect(perUseAmount(0, 50 * 2 ** 50, { perFileOre: 0, perGibOre: 10_000_000 })).toBe(524_288_000_000_000);
  });

  it('prices a per-use line once: files × per file + bytes × per GiB / 2^30', () => {
    // 16 MiB at 8.00 DKK/GiB = 12.5 øre → 13; with 3 files at 0.30: 90 + 12.5 = 102.5 → 103 (not 90 + 13 rounded apart)
    expect(perUseAmount(0, 16_777_216, { perFileOre: 30, perGibOre: 800 })).toBe(13);
    expect(perUseAmount(3, 16_777_216, { perFileOre: 30, perGibOre: 800 })).toBe(103);
    // 1 byte at 1 øre/GiB rounds to nothing; half a GiB at 1 øre/GiB is half an øre → 1
    expect(perUseAmount(0, 1, { perFileOre: 0, perGibOre: 1 })).toBe(0);
    expect(perUseAmount(0, 2 ** 29, { perFileOre: 0, perGibOre: 1 })).toBe(1);
    expect(perUseAmount(0, 2 ** 29 - 1, { perFileOre: 0, perGibOre: 1 })).toBe(0);
  });

  it('prices a buffet line as inhabitants × yearly price / 4 × days / quarter days', () => {
    // a whole quarter is a quarter of the year: 100,000 × 12.00 DKK / 4 = 300,000.00 DKK
    expect(buffetAmount(100_000, 1_200, 92, 92)).toBe(30_000_000);
    // 1 inhabitant at 1 øre for 1 day of 92: 1/368 øre → 0; at 184 øre: 184/368 = exactly 0.5 → 1; at 183: 0.497 → 0
    expect(buffetAmount(1, 1, 1, 92)).toBe(0);
    expect(buffetAmount(1, 184, 1, 92)).toBe(1);
    expect(buffetAmount(1, 183, 1, 92)).toBe(0);
  });

  it('reads DKK with a point or a comma, at most two decimals, into øre', () => {
    expect(['12.50', '12,50', '12', '0.5', '0,05', ' 7 ', '0'].map((t) => parseDkk(t, '--x'))).toEqual([1250, 1250, 1200, 50, 5, 700, 0]);
    for (const bad of ['12.505', '1.234,50', '1 234', '-3', '', 'abc', '12.', '.5', '1e3']) {
      expect(() => parseDkk(bad, '--per-file')).toThrow(`--per-file '${bad}' is not an amount in DKK`);
    }
    expect([formatDkk(0), formatDkk(5), formatDkk(1250), formatDkk(123_456_789n)]).toEqual(['0.00', '0.05', '12.50', '1234567.89']);
  });
});

describe('quarters and price spans', () => {
  it('knows each quarter\'s days, leap years included', () => {
    expect(parseQuarter('2026Q1')).toEqual({ name: '2026Q1', first: '2026-01-01', next: '2026-04-01', days: 90 });
    expect(parseQuarter('2028q1').days).toBe(91);
    expect(parseQuarter('2026Q2').days).toBe(91);
    expect(parseQuarter('2026Q3').days).toBe(92);
    expect(parseQuarter('2026Q4')).toEqual({ name: '2026Q4', first: '2026-10-01', next: '2027-01-01', days: 92 });
    expect(() => parseQuarter('2026Q5')).toThrow("--quarter '2026Q5' is not a quarter");
    // Its days are PostgreSQL dates: no year 0000, and 9999Q4 would end in year 10000.
    expect(() => parseQuarter('9999Q4')).toThrow("--quarter '9999Q4' is outside the calendar");
    expect(() => parseQuarter('0000Q1')).toThrow("--quarter '0000Q1' is outside the calendar");
    expect(parseQuarter('9999Q3').next).toBe('9999-10-01');
  });

  it('cuts the prices in force within a period at each change', () => {
    const price = (id: number, validFrom: string, service: 'send' | 'fetch' | null = null): PriceRow => ({
      id, model: service ? 'per-use' : 'buffet', service, validFrom, perInhabitantOre: service ? null : id, perFileOre: service ? id : null, perGibOre: service ? id : null, setBy: 't', setAt: new Date(0),
    });
    const prices = [price(1, '2025-01-01'), price(2, '2026-11-16'), price(3, '2027-01-01'), price(4, '2026-12-01', 'send')];
    expect(spansWithin(prices, 'buffet', null, '2026-10-01', '2027-01-01').map((s) => [s.price.id, s.first, s.next])).toEqual([
      [1, '2026-10-01', '2026-11-16'],
      [2, '2026-11-16', '2027-01-01'],
    ]);
    expect(spansWithin(prices, 'per-use', 'send', '2026-10-01', '2027-01-01').map((s) => [s.price.id, s.first, s.next])).toEqual([[4, '2026-12-01', '2027-01-01']]);
    expect(spansWithin(prices, 'per-use', 'fetch', '2026-10-01', '2027-01-01')).toEqual([]);
  });
});
