import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { addPerson, apiToken, startPortal, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
beforeAll(async () => {
  portal = await startPortal();
});
afterAll(async () => portal?.close());

const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

/** The parts of OpenAPI 3.0's document structure the portal relies on. */
const openApiShape = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.0\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    servers: { type: 'array', items: { type: 'object', required: ['url'] } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'parameters', 'summary', 'description'] },
        additionalProperties: {
          type: 'object',
          required: ['responses'],
          properties: {
            responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^([1-5][0-9]{2}|default)$' }, additionalProperties: { type: 'object', required: ['description'] } },
            parameters: { type: 'array', items: { type: 'object', required: ['name', 'in'], properties: { in: { enum: ['path', 'query', 'header', 'cookie'] } } } },
            requestBody: { type: 'object', required: ['content'] },
          },
        },
      },
    },
    components: { type: 'object', properties: { schemas: { type: 'object' }, securitySchemes: { type: 'object' } } },
  },
} as const;

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsIn(v, found);
    }
  }
  return found;
}

describe('the JSON API', () => {
  it('publishes a valid OpenAPI 3 document that lists every /api/v1 route', async () => {
    const res = await fetch(`${portal.baseUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.validate(openApiShape, doc);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // Every $ref points into the document, and every schema in it compiles.
    for (const ref of refsIn(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
    }
    ajv.addSchema(doc, 'doc');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const pointer = `doc#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`;
        const responses = (op as { responses: Record<string, { content?: Record<string, unknown> }> }).responses;
        for (const [status, r] of Object.entries(responses)) {
          for (const type of Object.keys(r.content ?? {})) expect(() => ajv.compile({ $ref: `${pointer}/responses/${status}/content/${type.replace(/\//g, '~1')}/schema` })).not.toThrow();
        }
      }
    }
    const routes = portal.app.apiRoutes.filter((r) => !r.url.endsWith('/openapi.json'));
    expect(routes.length).toBeGreaterThan(0);
    const missing = routes.filter((r) => !doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()]);
    expect(missing).toEqual([]);
  });

  it('GET /me answers the caller with a bearer token; none, a wrong or a revoked token is 401 problem+json', async () => {
    const p = await addPerson(portal.pool, { role: 'operator', name: 'Ole' });
    const token = await apiToken(portal.pool, p.email);
    const me = await fetch(`${portal.baseUrl}/api/v1/me`, { headers: bearer(token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ email: p.email, name: 'Ole', role: 'operator', language: 'da' });

    for (const headers of [{}, bearer('fu_not-a-real-token'), bearer(token.slice(0, -2))]) {
      const res = await fetch(`${portal.baseUrl}/api/v1/me`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, instance: '/api/v1/me' });
    }
    await portal.pool.query(`UPDATE api_tokens SET revoked_at = now()`);
    expect((await fetch(`${portal.baseUrl}/api/v1/me`, { headers: bearer(token) })).status).toBe(401);
  });

  it('a 400 names each bad field', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const token = await apiToken(portal.pool, p.email);
    const res = await fetch(`${portal.baseUrl}/api/v1/me`, {
      method: 'PATCH',
      headers: bearer(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ language: 'fr', colour: 'blue' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { errors: Array<{ field: string; pointer: string }> };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['colour', 'language']);
    expect(problem.errors.find((e) => e.field === 'colour')).toMatchObject({ pointer: '#/colour', detail: 'is not a known field' });

    const missing = await fetch(`${portal.baseUrl}/api/v1/me`, { method: 'PATCH', headers: bearer(token, { 'content-type': 'application/json' }), body: '{}' });
    expect(await missing.json()).toMatchObject({ status: 400, errors: [{ field: 'language', pointer: '#/language', detail: 'is required' }] });
  });

  it('changes the language with a token (no CSRF), or with the session and its CSRF header only', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const token = await apiToken(portal.pool, p.email);
    const viaToken = await fetch(`${portal.baseUrl}/api/v1/me`, { method: 'PATCH', headers: bearer(token, { 'content-type': 'application/json' }), body: JSON.stringify({ language: 'en' }) });
    expect(viaToken.status).toBe(200);
    expect(await viaToken.json()).toMatchObject({ language: 'en' });

    const session = await portal.login(p);
    const noHeader = await session.api('PATCH', '/api/v1/me', { language: 'da' }, { csrf: false });
    expect(noHeader.status).toBe(403);
    expect(noHeader.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const wrongHeader = await session.fetch('/api/v1/me', { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' }, body: JSON.stringify({ language: 'da' }) });
    expect(wrongHeader.status).toBe(403);
    expect(await (await session.api('GET', '/api/v1/me')).json()).toMatchObject({ language: 'en' });
    await session.get('/');
    const withHeader = await session.api('PATCH', '/api/v1/me', { language: 'da' });
    expect(withHeader.status).toBe(200);
    const { rows } = await portal.pool.query(`SELECT actor, before, after FROM audit_log WHERE action = 'user.language' AND entity_id = $1 ORDER BY id`, [p.email]);
    expect(rows).toEqual([
      { actor: p.email, before: { language: 'da' }, after: { language: 'en' } },
      { actor: p.email, before: { language: 'en' }, after: { language: 'da' } },
    ]);
  });

  it('refuses a JSON body over 1 MiB with 413', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const token = await apiToken(portal.pool, p.email);
    const res = await fetch(`${portal.baseUrl}/api/v1/me`, { method: 'PATCH', headers: bearer(token, { 'content-type': 'application/json' }), body: JSON.stringify({ language: 'x'.repeat(1024 * 1024) }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers an unknown API path 404 problem+json, also to anonymous callers', async () => {
    const res = await fetch(`${portal.baseUrl}/api/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
