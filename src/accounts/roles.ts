/** The portal's roles (SPEC §11). `*-user` is read-only; `*-admin` also manages its organisation's people. */
export const ROLES = ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Which kind of organisation a role belongs to. */
export function organisationOf(role: Role): 'kombit' | 'vendor' | 'authority' {
  return role === 'operator' ? 'kombit' : role.startsWith('vendor-') ? 'vendor' : 'authority';
}

export const LANGUAGES = ['da', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
