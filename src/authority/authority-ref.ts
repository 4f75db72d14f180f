/**
 * How an authority is named on the command line and in XML: a kommunekode (`751` or `0751`), a
 * CVR number (8 digits, modulus-11), or in XML `urn:oio:cvr-nr:<8 digits>` (SPEC §1, §8).
 */
export type AuthorityRef = { kind: 'kommunekode'; kommunekode: string } | { kind: 'cvr'; cvr: string };

const CVR_WEIGHTS = [2, 7, 6, 5, 4, 3, 2, 1];

/** The CVR register's check: the weighted digit sum is divisible by 11. */
export function isValidCvr(cvr: string): boolean {
  if (!/^[0-9]{8}$/.test(cvr) || cvr.startsWith('0')) return false;
  const sum = [...cvr].reduce((acc, d, i) => acc + Number(d) * CVR_WEIGHTS[i]!, 0);
  return sum % 11 === 0;
}

/** Parses `751`, `0751` or an 8-digit CVR; undefined when it is neither. */
export function parseAuthorityRef(text: string): AuthorityRef | undefined {
  const t = text.trim();
  if (/^[0-9]{3,4}$/.test(t)) return { kind: 'kommunekode', kommunekode: t.padStart(4, '0') };
  if (/^[0-9]{8}$/.test(t)) return { kind: 'cvr', cvr: t };
  return undefined;
}

const CVR_URN = /^urn:oio:cvr-nr:([0-9]{8})$/;

/** `urn:oio:cvr-nr:55133018` → `55133018`; undefined when not of that form. */
export function cvrFromUrn(urn: string): string | undefined {
  return CVR_URN.exec(urn.trim())?.[1];
}

export function cvrUrn(cvr: string): string {
  return `urn:oio:cvr-nr:${cvr}`;
}
