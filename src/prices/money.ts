import { UsageError } from '../errors.js';

/**
 * Money is kept in øre (1/100 DKK) as whole numbers (SPEC §13). Products that can pass 2^53
 * (inhabitants × øre × days, bytes × øre per GiB) are worked out in BigInt; each line is rounded
 * once, half up, and a total is the sum of its rounded lines.
 */

/** `12.50`, `12,50`, `12` or `0.5` DKK → øre. At most two decimals; no thousands separators. */
export function parseDkk(text: string, option: string): number {
  const m = /^([0-9]{1,12})(?:[.,]([0-9]{1,2}))?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`${option} '${text}' is not an amount in DKK: give kroner with at most two decimals, e.g. 12.50 or 12,50 (no thousands separators).`);
  }
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** øre → `1234.50` (a point, two decimals: what spreadsheets and JSON readers take). */
export function formatDkk(ore: number | bigint): string {
  const n = BigInt(ore);
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** numerator / denominator rounded half up (halves away from zero: amounts here are never negative). */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('divideHalfUp: the denominator must be positive');
  if (numerator < 0n) return -divideHalfUp(-numerator, denominator);
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/** A bigint amount of øre back to a number (safe: an invoice line stays far below 2^53 øre). */
export function oreNumber(ore: bigint): number {
  if (ore > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${ore} øre is beyond what an invoice line can hold`);
  return Number(ore);
}
