import type { Language, Role } from './roles.js';

/** A person logged in to the portal or calling the API: who they are and what they belong to. */
export interface Person {
  id: number;
  email: string;
  name: string;
  role: Role;
  language: Language;
  vendor?: { id: number; name: string };
  authority?: { id: number; cvr: string | null; kommunekode: string | null; name: string };
}

/** The columns of a PersonRow, from `users u` with PERSON_JOINS. */
export const PERSON_COLUMNS = `u.id, u.email, u.name, u.role, u.language, u.disabled, u.password_hash AS "passwordHash",
         v.id AS "vendorId", v.name AS "vendorName",
         a.id AS "authorityId", a.cvr AS "authorityCvr", a.kommunekode AS "authorityKommunekode", a.name AS "authorityName"`;

/** The person's organisation, joined to `users u`. */
export const PERSON_JOINS = `LEFT JOIN vendors v ON v.id = u.vendor_id LEFT JOIN authorities a ON a.id = u.authority_id`;

export interface PersonRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  language: Language;
  disabled: boolean;
  passwordHash: string | null;
  vendorId: number | null;
  vendorName: string | null;
  authorityId: number | null;
  authorityCvr: string | null;
  authorityKommunekode: string | null;
  authorityName: string | null;
}

export function personOf(r: PersonRow): Person {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    language: r.language,
    ...(r.vendorId !== null ? { vendor: { id: r.vendorId, name: r.vendorName! } } : {}),
    ...(r.authorityId !== null
      ? { authority: { id: r.authorityId, cvr: r.authorityCvr, kommunekode: r.authorityKommunekode, name: r.authorityName! } }
      : {}),
  };
}
