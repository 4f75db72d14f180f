import { RefusedError, UsageError } from '../../errors.js';
import { Problem } from '../problem.js';
import { apiDetail, refusalStatus } from '../refusals.js';

/** 'YYYY-MM-DD' in a schema (whether the day exists is the domain's check). */
export const dayPattern = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/** A day the `dayPattern` lets through that is a real date PostgreSQL can hold (the domain's own check). */
export { isRealDay } from '../../routes/validity-day.js';

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
const UNKNOWN_NAMED = ['kommunekode-unknown', 'authority-unknown', 'vendor-unknown'] as const;

/**
 * A value of the request that names something unknown (an authority in a filter or a body) is bad
 * input of that field (400 naming it), not a conflict: the domain's refusal becomes a field error.
 */
export function asBadField<T>(field: string, fn: () => Promise<T>): Promise<T> {
  return namingFields(Object.fromEntries(UNKNOWN_NAMED.map((code) => [code, field])), fn);
}

/**
 * SPEC §11: a 400 names each bad field. A value that passes the route's schema but that the domain
 * refuses as bad input (a day the calendar lacks, a user name it cannot hold) has no field of its
 * own; `fields` says, by the refusal's code, which field of the request it is about.
 */
export async function namingFields<T>(fields: Readonly<Record<string, string>>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const field = err instanceof RefusedError || err instanceof UsageError ? fields[err.code ?? ''] : undefined;
    if (field !== undefined) throw fieldProblem(field, err as RefusedError | UsageError);
    throw err;
  }
}

/**
 * Several values checked at once, each by its own parse: every one refused is named (a 400 with an
 * entry per field, the first one's words and code as the problem's), not only the first.
 */
export function eachField<T extends Record<string, () => unknown>>(checks: T): { [K in keyof T]: ReturnType<T[K]> } {
  const out: Record<string, unknown> = {};
  const bad: Problem[] = [];
  for (const [field, check] of Object.entries(checks)) {
    try {
      out[field] = check();
    } catch (err) {
      if (!(err instanceof RefusedError || err instanceof UsageError)) throw err;
      bad.push(fieldProblem(field, err));
    }
  }
  if (bad.length > 0) throw new Problem(400, bad[0]!.detail, bad.flatMap((p) => p.errors ?? []), bad[0]!.code);
  return out as { [K in keyof T]: ReturnType<T[K]> };
}

/** A refusal about one field of the request: 400 (or the refusal's own status, refusals.ts) naming the field, with the refusal's words and code. */
export function fieldProblem(field: string, err: RefusedError | UsageError): Problem {
  const detail = apiDetail(err);
  return new Problem(refusalStatus(err, 400), detail, [{ pointer: `#/${field.replace(/\./g, '/')}`, field, detail }], err.code);
}
