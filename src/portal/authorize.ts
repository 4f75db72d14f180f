import type { FastifyRequest } from 'fastify';
import type { Person } from '../accounts/person.js';
import { can, type Action, type Owners } from './can.js';
import { Problem } from './problem.js';

/**
 * `can` at the edge: throws 404 out of scope, 403 for a role too weak. `notFound` is what the route
 * answers for an object that does not exist, so one outside the person's scope reads exactly alike.
 */
export function authorize(person: Person, action: Action, object?: Owners, notFound = 'Not found.'): void {
  const verdict = can(person, action, object);
  if (verdict === 'not-found') throw new Problem(404, notFound);
  if (verdict === 'forbidden') throw new Problem(403, `A ${person.role} may not do this.`);
}

/** The logged-in person of a request (routes behind login only). */
export function personOf(request: FastifyRequest): Person {
  if (!request.person) throw new Problem(401, 'Log in first.');
  return request.person;
}
