import { RefusedError, type UsageError } from '../../errors.js';
import { Problem } from '../problem.js';
import { apiDetail } from '../refusals.js';

/** 'YYYY-MM-DD' in a schema (whether the day exists is the domain's check). */
export const dayPattern = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/**
 * A day the `dayPattern` lets through that is a real date PostgreSQL can hold: not 2026-02-30
 * (Date.parse would roll it over to March), and not in year 0000 (JavaScript has one, PostgreSQL not).
 */
export function isRealDay(v: string): boolean {
  const t = Date.parse(`${v}T00:00:00Z`);
  return !v.startsWith('0000') && !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === v;
}

/** `?limit=` of a list that can grow (SPEC §11: keyset paging with `?limit=&after=`). */
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'at most this many (default 100)' },
} as const;

export function listLimit(limit: number | undefined): number {
  return limit ?? 100;
}

/** SPEC §11's authority: `{cvr, kommunekode?, name}`. */
export function authorityOf(a: { cvr: string | null; kommunekode: string | null; name: string }) {
  return { cvr: a.cvr, ...(a.kommunekode ? { kommunekode: a.kommunekode } : {}), name: a.name };
}

/** The refusals that name something unknown the request gave by name (requireAuthority's, requireVendor's). */
const UNKNOWN_NAMED = new Set(['kommunekode-unknown', 'authority-unknown', 'vendor-unknown']);

/**
 * A value of the request that names something unknown (an authority in a filter or a body) is bad
 * input of that field (400 naming it), not a conflict: the domain's refusal becomes a field error.
 */
export async function asBadField<T>(field: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RefusedError && err.code !== undefined && UNKNOWN_NAMED.has(err.code)) throw fieldProblem(field, err);
    throw err;
  }
}

/** A refusal about one field of the request: 400 naming the field, with the refusal's words and code. */
export function fieldProblem(field: string, err: RefusedError | UsageError): Problem {
  const detail = apiDetail(err);
  return new Problem(400, detail, [{ pointer: `#/${field.replace(/\./g, '/')}`, field, detail }], err.code);
}
