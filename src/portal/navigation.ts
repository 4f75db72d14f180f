import type { FastifyInstance } from 'fastify';
import type { Person } from '../accounts/person.js';
import { mayEver, type Action } from './can.js';
import type { MessageKey } from './i18n/messages.js';

/**
 * The main menu, named as SPEC §11's pages. An item shows when the person's role may do its action
 * and its page exists (a page plugin has registered `GET <href>`), so a new page appears by itself.
 */
const ITEMS: ReadonlyArray<{ key: MessageKey; href: string; action: Action }> = [
  { key: 'nav.start', href: '/', action: 'read' },
  { key: 'nav.systems', href: '/systems', action: 'read' },
  { key: 'nav.agreements', href: '/agreements', action: 'read' },
  { key: 'nav.infrefs', href: '/infrefs', action: 'read' },
  { key: 'nav.transfers', href: '/transfers', action: 'read' },
  { key: 'nav.usage', href: '/usage', action: 'read' },
  { key: 'nav.notices', href: '/notices', action: 'read' },
  { key: 'nav.users', href: '/users', action: 'user.manage' },
  { key: 'nav.vendors', href: '/vendors', action: 'operate' },
  { key: 'nav.authorities', href: '/authorities', action: 'operate' },
  { key: 'nav.routes', href: '/routes', action: 'operate' },
  { key: 'nav.outbox', href: '/outbox', action: 'operate' },
  { key: 'nav.prices', href: '/prices', action: 'operate' },
  { key: 'nav.status', href: '/status', action: 'operate' },
];

/** Pages an authority person does not have (SPEC §11: systems and InfRefs are the vendors'). */
const NOT_FOR_AUTHORITIES = new Set(['/systems', '/infrefs']);

export interface NavItem {
  key: MessageKey;
  href: string;
  current: boolean;
}

export function navigationFor(app: FastifyInstance, person: Person, path: string): NavItem[] {
  return ITEMS.filter((i) => mayEver(person, i.action))
    .filter((i) => !(person.authority && NOT_FOR_AUTHORITIES.has(i.href)))
    .filter((i) => app.hasRoute({ method: 'GET', url: i.href }))
    .map((i) => ({ key: i.key, href: i.href, current: i.href === '/' ? path === '/' : path === i.href || path.startsWith(`${i.href}/`) }));
}
