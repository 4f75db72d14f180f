import type { Queryable } from '../db/pool.js';
import { divideHalfUp, oreNumber } from './money.js';
import type { PriceSpan } from './prices.js';

/**
 * The days an authority owes the buffet price (SPEC §13): those on which it holds at least one
 * service agreement that is approved — from the Danish day it was approved, inclusive — and not
 * yet terminated: a terminated agreement counts until the day before its effective day
 * (`effective_on` is the first day it no longer counts, as `agreement terminate --effective`
 * says and SPEC §5 1205 applies). Withdrawn, rejected and requested agreements never count.
 */
export async function agreementDays(db: Queryable, q: { from: string; next: string; authorityId?: number }): Promise<Map<number, string[]>> {
  const { rows } = await db.query<{ authorityId: number; days: string[] }>(
    `SELECT g.authority_id AS "authorityId", array_agg(DISTINCT d::date::text ORDER BY d::date::text) AS days
       FROM agreements g
      CROSS JOIN LATERAL generate_series(
              greatest($1::date, (g.decided_at AT TIME ZONE 'Europe/Copenhagen')::date),
              least($2::date, coalesce(g.effective_on, $2::date)) - 1,
              interval '1 day') AS d
      WHERE g.status IN ('approved', 'terminated') AND g.decided_at IS NOT NULL
        AND ($3::int IS NULL OR g.authority_id = $3)
      GROUP BY g.authority_id`,
    [q.from, q.next, q.authorityId ?? null],
  );
  return new Map(rows.map((r) => [r.authorityId, r.days]));
}

export interface BuffetPart {
  span: PriceSpan;
  /** First and last day counted within the span. */
  first: string;
  last: string;
  days: number;
}

/** Splits the days an authority owes at each buffet price change; days without a price owe nothing. */
export function buffetParts(days: string[], spans: PriceSpan[]): BuffetPart[] {
  const parts: BuffetPart[] = [];
  for (const span of spans) {
    const inSpan = days.filter((d) => d >= span.first && d < span.next);
    if (inSpan.length) parts.push({ span, first: inSpan[0]!, last: inSpan[inSpan.length - 1]!, days: inSpan.length });
  }
  return parts;
}

/**
 * A quarter's buffet line: inhabitants × yearly price / 4, pro rata by the days counted of the
 * quarter's days — inhabitants × øre × days / (4 × quarter days), rounded once, half up.
 */
export function buffetAmount(inhabitants: number, perInhabitantOre: number, days: number, quarterDays: number): number {
  return oreNumber(divideHalfUp(BigInt(inhabitants) * BigInt(perInhabitantOre) * BigInt(days), 4n * BigInt(quarterDays)));
}
