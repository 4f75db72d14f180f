import type { Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { isValidCvr, parseAuthorityRef, type AuthorityRef } from './authority-ref.js';
import { findAuthority, type AuthorityRow } from './find-authority.js';

/**
 * An authority as the operator names it: kommunekode (`751` or `0751`) or CVR number (SPEC §8).
 * Text of neither form, or a CVR that fails modulus-11, is bad usage.
 */
export function parseAuthorityArg(text: string, option = 'authority'): AuthorityRef {
  const ref = parseAuthorityRef(text);
  if (!ref) {
    throw new UsageError(`${option} '${text}' is neither a kommunekode (3–4 digits, e.g. 751 or 0751) nor a CVR number (8 digits); give one of those.`, { code: 'authority-invalid', values: { text } });
  }
  if (ref.kind === 'cvr' && !isValidCvr(ref.cvr)) {
    throw new UsageError(`${option} '${text}' is not a valid CVR number: it fails the modulus-11 check. Check the digits (see the CVR register).`, { code: 'cvr-check-failed', values: { cvr: text } });
  }
  return ref;
}

export async function requireAuthority(db: Queryable, text: string, option = 'authority'): Promise<AuthorityRow> {
  const ref = parseAuthorityArg(text, option);
  const found = await findAuthority(db, ref);
  if (!found) {
    throw ref.kind === 'kommunekode'
      ? new RefusedError(`Unknown kommunekode ${ref.kommunekode} (${option} '${text}'): no municipality has it (see 'filudveksling authority list').`, {
          code: 'kommunekode-unknown',
          values: { kommunekode: ref.kommunekode },
        })
      : new RefusedError(`Unknown authority with CVR ${ref.cvr} (${option} '${text}'): add it with 'filudveksling authority add ${ref.cvr} --name "…"' (see 'filudveksling authority list').`, {
          code: 'authority-unknown',
          values: { cvr: ref.cvr },
        });
  }
  return found;
}

/** `0751 Aarhus`, or `Region X (CVR 12345678)`: how messages and tables name an authority. */
export function authorityLabel(a: Pick<AuthorityRow, 'kommunekode' | 'name' | 'cvr'>): string {
  return a.kommunekode ? `${a.kommunekode} ${a.name}` : `${a.name} (CVR ${a.cvr})`;
}
