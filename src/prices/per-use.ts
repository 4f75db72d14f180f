import type { ServiceUsageRow } from '../usage/service-usage.js';
import { divideHalfUp, oreNumber } from './money.js';
import { spansWithin, type PriceRow, type PriceSpan, type Service } from './prices.js';

const GIB = 1n << 30n;

/** files × per-file price + bytes × per-GiB price / 2^30, in øre, rounded once half up. */
export function perUseAmount(files: number, bytes: number, price: Pick<PriceRow, 'perFileOre' | 'perGibOre'>): number {
  const numerator = BigInt(files) * BigInt(price.perFileOre!) * GIB + BigInt(bytes) * BigInt(price.perGibOre!);
  return oreNumber(divideHalfUp(numerator, GIB));
}

/**
 * perUseAmount in SQL, over SQL expressions (bigint), in bigint arithmetic (numeric is several
 * times slower over tens of thousands of rows): the whole GiBs' price is exact, and only the rest
 * of a GiB's bytes (under 2^30) is divided, rounded half up — the same sum rounded once. NULL where
 * the price is (no per-use price: inside the buffet). Kept beside perUseAmount so that the two are
 * changed together (test/per-use-amount.test.ts).
 */
export function perUseAmountSql(files: string, bytes: string, perFileOre: string, perGibOre: string): string {
  return `(${files} * ${perFileOre} + (${bytes} / ${GIB}) * ${perGibOre} + ((${bytes} % ${GIB}) * ${perGibOre} * 2 + ${GIB}) / ${2n * GIB})`;
}

export interface PricedUsage {
  row: ServiceUsageRow;
  span: PriceSpan;
  files: number;
  bytes: number;
  amountOre: number;
}

/**
 * Day cuts for serviceUsage that let every row be priced: each per-use price change within
 * [from, next), plus `extra` (month starts for the monthly view).
 */
export function perUseCuts(prices: PriceRow[], from: string, next: string, extra: string[] = []): string[] {
  const changes = prices.filter((p) => p.model === 'per-use' && p.validFrom > from && p.validFrom < next).map((p) => p.validFrom);
  return [...new Set([...changes, ...extra])].sort();
}

/**
 * [from, next) cut so that each segment has one per-use price per service: the segments' first
 * days (`from`, then perUseCuts with `extra`), and each segment's price of each service
 * (undefined: none, the use is inside the buffet).
 */
export function perUseSegments(prices: PriceRow[], from: string, next: string, extra: string[] = []): { starts: string[]; price: Record<Service, Array<PriceRow | undefined>> } {
  const starts = [from, ...perUseCuts(prices, from, next, extra)];
  const priceOf = (service: Service) => {
    const spans = spansWithin(prices, 'per-use', service, from, next);
    return starts.map((day) => spans.find((s) => s.first <= day && day < s.next)?.price);
  };
  return { starts, price: { send: priceOf('send'), fetch: priceOf('fetch') } };
}

/**
 * Prices usage rows (segments of [from, next) cut at `starts`) with the per-use price of their
 * service on those days, joining a system's consecutive segments under one price into one line.
 * Usage on days without a per-use price for its service is inside the buffet: no line.
 */
export function pricePerUse(rows: ServiceUsageRow[], starts: string[], prices: PriceRow[], next: string): PricedUsage[] {
  const lines = new Map<string, PricedUsage>();
  const spans = { send: spansWithin(prices, 'per-use', 'send', starts[0]!, next), fetch: spansWithin(prices, 'per-use', 'fetch', starts[0]!, next) };
  for (const row of rows) {
    const day = starts[row.segment]!;
    const span = spans[row.service].find((s) => s.first <= day && day < s.next);
    if (!span) continue;
    const key = `${row.authorityId}|${row.systemId}|${row.service}|${span.first}`;
    const line = lines.get(key) ?? { row, span, files: 0, bytes: 0, amountOre: 0 };
    line.files += row.files;
    line.bytes += row.bytes;
    lines.set(key, line);
  }
  for (const line of lines.values()) line.amountOre = perUseAmount(line.files, line.bytes, line.span.price);
  return [...lines.values()];
}
