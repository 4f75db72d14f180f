import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/view';
import { RefusedError, UsageError } from '../../errors.js';

/**
 * What the pages of SPEC §11's table need from the portal around them: who is asking, what they
 * may see (their scope), and how a page and an action's outcome are shown. One adapter over
 * portal-core's request decorations, so the pages read the same whatever those are called.
 */
export type Role = 'operator' | 'vendor-admin' | 'vendor-user' | 'authority-admin' | 'authority-user';

export interface Person {
  email: string;
  role: Role;
  vendorId?: number;
  vendor?: string;
  authorityId?: number;
  authority?: string;
}

/** What a person may see: one vendor's things, one authority's, or (operator) everything. */
export type Scope = { kind: 'vendor'; vendorId: number } | { kind: 'authority'; authorityId: number } | { kind: 'all' };

export function scopeOf(person: Person): Scope {
  if (person.role === 'operator') return { kind: 'all' };
  if (person.role.startsWith('vendor-')) return { kind: 'vendor', vendorId: person.vendorId! };
  return { kind: 'authority', authorityId: person.authorityId! };
}

export const isVendor = (p: Person) => p.role.startsWith('vendor-');
export const isAuthority = (p: Person) => p.role.startsWith('authority-');

/** A 404 page for anything outside the person's scope, as if it did not exist (SPEC §11). */
export class NotFoundPage extends Error {}

/**
 * A refusal from a domain function (unknown name, wrong state, bad value) becomes the `problem`
 * shown above the form; anything else is a real fault and goes on to the error handler.
 */
export function problemOf(err: unknown): string {
  if (err instanceof RefusedError || err instanceof UsageError) return err.message;
  throw err;
}

/** After a successful action: back to a page, with a catalogue key saying what was done. */
export function redirectDone(reply: FastifyReply, path: string, done: string): FastifyReply {
  const sep = path.includes('?') ? '&' : '?';
  return reply.redirect(`${path}${sep}done=${encodeURIComponent(done)}`, 303);
}

/** The `done` key of a redirect, only if it is one of ours (never text from the query shown as is). */
export function doneKey(request: FastifyRequest, allowed: readonly string[]): string | undefined {
  const done = (request.query as Record<string, unknown>).done;
  return typeof done === 'string' && allowed.includes(done) ? done : undefined;
}

/** A form field as one trimmed string ('' when missing). */
export function field(body: unknown, name: string): string {
  return fields(body, name)[0] ?? '';
}

/** A form field that may repeat (a multiple select, several checkboxes). */
export function fields(body: unknown, name: string): string[] {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined) return [];
  // A multipart field attached to the body as an object carries its text in `value`.
  const text = (x: unknown) => (typeof x === 'string' ? x : typeof (x as { value?: unknown })?.value === 'string' ? (x as { value: string }).value : '');
  return (Array.isArray(v) ? v : [v]).map((x) => text(x).trim()).filter(Boolean);
}

/**
 * Renders one of the pages' views inside the portal's layout, with the request's catalogue, the
 * CSRF token and the person. `data` holds only values: every text comes from the catalogue.
 */
export async function renderPage(request: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200): Promise<FastifyReply> {
  reply.code(status);
  return reply.view(`pages/${view}.eta`, { ...data, person: personOf(request), path: request.url.split('?')[0] });
}

export function personOf(request: FastifyRequest): Person {
  return (request as unknown as { person: Person }).person;
}
