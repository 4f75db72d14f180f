/**
 * The portal in-process for tests: a fresh database, the real Fastify application listening on a
 * loopback port, people made through the accounts module, and a small cookie-keeping client.
 *
 *   const portal = await startPortal();                       // afterAll: portal.close()
 *   const op = await addPerson(portal.pool, { email: 'op@example.dk', role: 'operator' });
 *   const session = await portal.login(op);                   // cookie + CSRF handled
 *   const res = await session.api('GET', '/api/v1/me');       // JSON API with the session
 *   const token = await apiToken(portal.pool, op.email);      // or a bearer token:
 *   await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApiToken } from '../../src/accounts/api-tokens.js';
import type { Clock } from '../../src/accounts/clock.js';
import { inviteUser } from '../../src/accounts/invite-user.js';
import type { Role } from '../../src/accounts/roles.js';
import { setPasswordWithLink } from '../../src/accounts/set-password.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { setLogLevel } from '../../src/log.js';
import { buildPortal } from '../../src/portal/app.js';
import { closePortal } from '../../src/portal/close-portal.js';
import type { RateLimits } from '../../src/portal/security.js';
import { freePort } from './cli.js';
import { issueInfRef, registerSystem, type TestSystem } from './factories.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestPortal {
  app: FastifyInstance;
  db: TestDatabase;
  pool: Pool;
  config: Config;
  /** http://127.0.0.1:<port> — also PORTAL_PUBLIC_URL, so links in invitations point here. */
  baseUrl: string;
  /** A fresh client (own cookies), not logged in. */
  client(): PortalClient;
  /** A client logged in as the person (via the login form). */
  login(person: { email: string; password: string }): Promise<PortalClient>;
  close(): Promise<void>;
}

export interface PortalOptions {
  clock?: Clock;
  env?: Record<string, string>;
  rateLimits?: Partial<RateLimits>;
  /** An existing migrated database to use instead of a fresh one (not dropped by close). */
  db?: TestDatabase;
}

export async function startPortal(o: PortalOptions = {}): Promise<TestPortal> {
  setLogLevel(process.env.TEST_LOG_LEVEL ?? 'silent');
  const db = o.db ?? (await createTestDatabase('portal'));
  await migrate(db.pool);
  const dataDir = mkdtempSync(join(tmpdir(), 'fu-portal-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({ DATABASE_URL: db.url, FILUDVEKSLING_DATA: dataDir, PORTAL_PORT: String(port), PORTAL_PUBLIC_URL: baseUrl, LOG_LEVEL: 'silent', ...o.env });
  const app = await buildPortal({ pool: db.pool, config, clock: o.clock, rateLimits: o.rateLimits ?? { perMinute: 100_000, authPerMinute: 100_000 } });
  await app.listen({ host: '127.0.0.1', port });
  const portal: TestPortal = {
    app,
    db,
    pool: db.pool,
    config,
    baseUrl,
    client: () => new PortalClient(baseUrl),
    async login(person) {
      const c = new PortalClient(baseUrl);
      const res = await c.submit('/login', { email: person.email, password: person.password });
      if (res.status !== 303) throw new Error(`login as ${person.email} answered ${res.status}: ${await res.text()}`);
      return c;
    },
    async close() {
      // A client a test left half-way (a body never sent) is cut off after a second, as in production.
      await closePortal(app, 1000);
      if (!o.db) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return portal;
}

/**
 * A portal with one vendor's system and an InfRef version it owns (its declaration approved when
 * `approve`): the start the pages' audit and refusal tests share. afterAll: portal.close().
 */
export async function startPortalWithInfRef(o: { username: string; vendor: string; approve?: boolean }): Promise<{ portal: TestPortal; owner: TestSystem; infref: string }> {
  const portal = await startPortal();
  const owner = await registerSystem(portal.pool, { username: o.username, vendor: o.vendor, dataDir: portal.config.dataDir });
  const infref = (await issueInfRef(portal.pool, owner.username, { approve: o.approve })).name;
  return { portal, owner, infref };
}

export interface TestPerson {
  id: number;
  email: string;
  password: string;
  role: Role;
}

let people = 0;

/** A person with a password set (invited and accepted through the accounts module). */
export async function addPerson(
  pool: Pool,
  p: { email?: string; role: Role; name?: string; vendorId?: number; authorityId?: number; password?: string; language?: 'da' | 'en' },
): Promise<TestPerson> {
  const email = p.email ?? `person${++people}-${Date.now().toString(36)}@example.dk`;
  const password = p.password ?? 'a long test password 123';
  const inv = await inviteUser(pool, { email, role: p.role, name: p.name, vendorId: p.vendorId, authorityId: p.authorityId, language: p.language }, 'factory', {
    publicUrl: 'http://portal.test',
    clock: () => new Date(),
  });
  const id = await setPasswordWithLink(pool, inv.link.token, 'invitation', password, () => new Date());
  return { id, email: inv.email, password, role: p.role };
}

/** A bearer token for the person's API calls. */
export async function apiToken(pool: Pool, email: string): Promise<string> {
  return (await createApiToken(pool, email, 'factory')).token;
}

/**
 * A browser-like HTTP client: keeps cookies, reads the CSRF token from the last page, never follows
 * redirects (tests look at them).
 */
export class PortalClient {
  private readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page fetched (its `<meta name="csrf-token">`). */
  csrf = '';

  constructor(readonly baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await this.fetch(path, { headers });
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
      const html = await res.clone().text();
      this.csrf = /<meta name="csrf-token" content="([^"]*)">/.exec(html)?.[1] ?? this.csrf;
    }
    return res;
  }

  /** Posts a form as a browser would, with the CSRF token of a page fetched first (GET `from`, default the path). */
  async submit(path: string, fields: Record<string, string>, o: { from?: string; csrf?: string | null } = {}): Promise<Response> {
    if (o.csrf === undefined) await this.get(o.from ?? path);
    const body = new URLSearchParams({ ...fields, ...(o.csrf === null ? {} : { _csrf: o.csrf ?? this.csrf }) });
    return this.fetch(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  /** A JSON API call with this client's session; writes carry the CSRF header (unless `csrf: false`). */
  async api(method: string, path: string, body?: unknown, o: { csrf?: boolean } = {}): Promise<Response> {
    if (method !== 'GET' && o.csrf !== false && !this.csrf) await this.get('/');
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && o.csrf !== false) headers['x-csrf-token'] = this.csrf;
    return this.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.baseUrl}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
      // As in a browser, the token of a page from before no longer matches a new CSRF secret.
      if (name === 'filudveksling_csrf') this.csrf = '';
    }
    return res;
  }
}
