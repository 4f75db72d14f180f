import type { Person } from '../accounts/person.js';
import type { Role } from '../accounts/roles.js';

/**
 * Authorization, in one place (SPEC §11 "Who sees what" and "What each can do"). Handlers ask
 * `authorize(person, action, owners)` at the edge; lists filter with `scopeOf(person)`.
 * Outside a person's scope the answer is "not found" (404, as if it did not exist); inside it, a
 * role too weak for the action is "forbidden" (403).
 */
export type Action =
  /** see it (every role, within scope) */
  | 'read'
  /** vendor-admin: register systems, add/remove keys, disable/enable */
  | 'system.manage'
  /** vendor-admin: request agreements and withdraw pending requests */
  | 'agreement.request'
  /** vendor-admin: upload the GDPR declaration document of its InfRef */
  | 'declaration.upload'
  /** authority-admin: approve, reject, terminate agreements naming its authority */
  | 'agreement.decide'
  /** *-admin: invite, disable and enable people of its own organisation */
  | 'user.manage'
  /** operator only: vendors, authorities, InfRef and declaration decisions, documents, routes, retries, status, outbox, prices */
  | 'operate';

const WHO: Record<Action, readonly Role[]> = {
  read: ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'],
  'system.manage': ['operator', 'vendor-admin'],
  'agreement.request': ['operator', 'vendor-admin'],
  'declaration.upload': ['operator', 'vendor-admin'],
  'agreement.decide': ['operator', 'authority-admin'],
  'user.manage': ['operator', 'vendor-admin', 'authority-admin'],
  operate: ['operator'],
};

type Ids = number | null | undefined | ReadonlyArray<number | null | undefined>;

/**
 * Whom an object belongs to: a system its vendor; an agreement its system's vendor and its authority;
 * a transfer the vendors of its sender and recipients and its RecipientAuthority; a person their organisation.
 */
export interface Owners {
  vendorId?: Ids;
  authorityId?: Ids;
}

export type Verdict = 'allowed' | 'forbidden' | 'not-found';

/** `object` left out: an action on no particular object (e.g. registering a new system for one's own vendor). */
export function can(person: Person, action: Action, object?: Owners): Verdict {
  if (object && !inScope(person, object)) return 'not-found';
  return WHO[action].includes(person.role) ? 'allowed' : 'forbidden';
}

export function inScope(person: Person, object: Owners): boolean {
  const scope = scopeOf(person);
  if ('all' in scope) return true;
  if ('vendorId' in scope) return idsOf(object.vendorId).includes(scope.vendorId);
  return idsOf(object.authorityId).includes(scope.authorityId);
}

/** What a person's lists are limited to: everything, one vendor's, or what names one authority. */
export type Scope = { all: true } | { vendorId: number } | { authorityId: number };

export function scopeOf(person: Person): Scope {
  if (person.role === 'operator') return { all: true };
  if (person.vendor) return { vendorId: person.vendor.id };
  if (person.authority) return { authorityId: person.authority.id };
  // A vendor/authority role without its organisation cannot exist (a CHECK in the users table); see nothing.
  return { vendorId: -1 };
}

/** Whether a person may do an action on some object at all (for showing navigation and buttons). */
export function mayEver(person: Person, action: Action): boolean {
  return WHO[action].includes(person.role);
}

function idsOf(ids: Ids): number[] {
  if (ids === null || ids === undefined) return [];
  return (Array.isArray(ids) ? ids : [ids]).filter((id): id is number => typeof id === 'number');
}
