import type { FastifyInstance } from 'fastify';
import type { Person } from '../../accounts/person.js';
import { setUserLanguage } from '../../accounts/manage-user.js';
import { ROLES } from '../../accounts/roles.js';
import { personOf } from '../authorize.js';
import { problemResponses } from '../problem.js';

const meSchema = {
  type: 'object',
  properties: {
    email: { type: 'string' },
    name: { type: 'string' },
    role: { enum: [...ROLES] },
    language: { enum: ['da', 'en'] },
    vendor: { type: 'string', description: "the vendor's name (vendor roles)" },
    authority: { $ref: 'Authority#' },
  },
  required: ['email', 'name', 'role', 'language'],
} as const;

export function meOf(p: Person) {
  return {
    email: p.email,
    name: p.name,
    role: p.role,
    language: p.language,
    ...(p.vendor ? { vendor: p.vendor.name } : {}),
    ...(p.authority ? { authority: { cvr: p.authority.cvr, ...(p.authority.kommunekode ? { kommunekode: p.authority.kommunekode } : {}), name: p.authority.name } } : {}),
  };
}

const meChange = {
  type: 'object',
  additionalProperties: false,
  properties: { language: { enum: ['da', 'en'], description: 'the language of the portal and of notices to this person' } },
  required: ['language'],
} as const;

/** GET /api/v1/me: who the caller is; PATCH /api/v1/me: their language. */
export async function meApi(app: FastifyInstance): Promise<void> {
  app.get('/me', { schema: { summary: 'The caller', tags: ['accounts'], response: { 200: meSchema, ...problemResponses(401) } } }, async (request) => meOf(personOf(request)));
  app.patch<{ Body: { language: 'da' | 'en' } }>(
    '/me',
    { schema: { summary: "Change the caller's language", tags: ['accounts'], body: meChange, response: { 200: meSchema, ...problemResponses(400, 401, 403) } } },
    async (request) => {
      const p = personOf(request);
      await setUserLanguage(app.portal.pool, p.id, request.body.language, p.email);
      return meOf({ ...p, language: request.body.language });
    },
  );
}
