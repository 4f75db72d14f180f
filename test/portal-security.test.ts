import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addAuthority } from '../src/authority/add-authority.js';
import { da } from '../src/portal/i18n/da.js';
import { viewsDir } from '../src/portal/views.js';
import { createVendor, registerSystem } from './helpers/factories.js';
import { addPerson, startPortal, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
beforeAll(async () => {
  portal = await startPortal();
});
afterAll(async () => portal?.close());

function expectSecurityHeaders(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

async function userCount(email: string): Promise<number> {
  return (await portal.pool.query(`SELECT 1 FROM users WHERE email = $1`, [email])).rowCount ?? 0;
}

describe('portal security', () => {
  it('sends CSP, nosniff and Referrer-Policy on pages, the API, assets and errors', async () => {
    for (const path of ['/login', '/api/v1/me', '/api/v1/openapi.json', '/assets/portal.css', '/no-such-page']) {
      expectSecurityHeaders(await fetch(`${portal.baseUrl}${path}`, { redirect: 'manual' }));
    }
  });

  it('refuses a form without its CSRF token, or with a forged one, and changes nothing', async () => {
    const op = await addPerson(portal.pool, { role: 'operator' });
    const anonymous = portal.client();
    await anonymous.get('/login');
    expect((await anonymous.submit('/login', { email: op.email, password: op.password }, { csrf: null })).status).toBe(403);
    expect((await anonymous.submit('/login', { email: op.email, password: op.password }, { csrf: 'forged' })).status).toBe(403);

    const session = await portal.login(op);
    const without = await session.submit('/users/invite', { email: 'csrf@example.dk', role: 'operator' }, { csrf: null });
    expect(without.status).toBe(403);
    expect(await without.text()).toContain('Formularen var for gammel');
    // A token from another browser does not fit this browser's secret.
    const other = portal.client();
    await other.get('/login');
    expect((await session.submit('/users/invite', { email: 'csrf@example.dk', role: 'operator' }, { csrf: other.csrf })).status).toBe(403);
    expect(await userCount('csrf@example.dk')).toBe(0);
    expect((await session.submit('/users/invite', { email: 'csrf@example.dk', role: 'operator' }, { from: '/users' })).status).toBe(200);
    expect(await userCount('csrf@example.dk')).toBe(1);
  });

  it('cookies are HttpOnly and SameSite=Lax, and Secure (with HSTS) when the public URL is https', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    await c.get('/login');
    const res = await c.submit('/login', { email: p.email, password: p.password });
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith('filudveksling_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);

    const https = await startPortal({ db: portal.db, env: { PORTAL_PUBLIC_URL: 'https://portal.example.dk' } });
    try {
      const s = https.client();
      const page = await s.get('/login');
      expect(page.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(page.headers.getSetCookie().every((l) => /;\s*Secure/.test(l))).toBe(true);
      const login = await s.submit('/login', { email: p.email, password: p.password }, { csrf: s.csrf });
      expect(login.status).toBe(303);
      expect(login.headers.getSetCookie().find((l) => l.startsWith('filudveksling_session='))).toMatch(/;\s*Secure/);
    } finally {
      await https.close();
    }
  });

  it('names, vendor names and e-mails with <script> and quotes render as text', async () => {
    const vendor = await createVendor(portal.pool, `Evil "Vendor" <script>alert('v')</script>`);
    const p = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: vendor.id, name: `Mallory "<img src=x onerror=alert(1)>" O'Hara` });
    const session = await portal.login(p);
    const start = await (await session.get('/')).text();
    expect(start).toContain('Mallory &quot;&lt;img src=x onerror=alert(1)&gt;&quot; O&#39;Hara');
    expect(start).toContain('Evil &quot;Vendor&quot; &lt;script&gt;alert(&#39;v&#39;)&lt;/script&gt;');
    expect(start).not.toContain('<img src=x');
    expect(start).not.toContain("<script>alert('v')");
    const users = await (await session.get('/users')).text();
    expect(users).not.toContain('<img src=x');
    // A value typed into a refused form is shown back escaped.
    const refused = await (await session.submit('/users/invite', { email: `"><script>x</script>`, role: 'vendor-user' }, { from: '/users' })).text();
    expect(refused).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(refused).not.toContain('<script>x</script>');
  });

  it('a login form post over 256 KiB is refused with 413', async () => {
    const c = portal.client();
    await c.get('/login');
    const res = await c.submit('/login', { email: 'a@example.dk', password: 'x'.repeat(300 * 1024) }, { csrf: c.csrf });
    expect(res.status).toBe(413);
  });

  it('after login, goes back only to a path in the portal', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    for (const [next, expected] of [['/users', '/users'], ['//evil.example/x', '/'], ['https://evil.example/', '/'], ['/\\evil.example', '/'], ['/\t/evil.example/x', '/'], ['/users\r\nSet-Cookie: x=1', '/']]) {
      const c = portal.client();
      await c.get('/login');
      const res = await c.submit('/login', { email: p.email, password: p.password, next }, { csrf: c.csrf });
      expect(res.headers.get('location')).toBe(expected);
    }
  });
});

describe('found by probing as an attacker', () => {
  it('an anonymous multipart upload is refused before its body is read', async () => {
    const form = new FormData();
    form.append('document', new Blob([Buffer.alloc(1024 * 1024)]), 'x.pdf');
    // A page sends the visitor to the login; the API answers 401.
    for (const path of ['/language', '/infrefs/FagsystemdefineredeDataRefGDPR1_1/declaration']) {
      const res = await fetch(`${portal.baseUrl}${path}`, { method: 'POST', body: form, redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    const api = await fetch(`${portal.baseUrl}/api/v1/infrefs/FagsystemdefineredeDataRefGDPR1_1/declaration`, { method: 'POST', body: form });
    expect(api.status).toBe(401);
  });

  it("another vendor's system answers the API exactly as one that does not exist, and API answers are not cached", async () => {
    const mine = await createVendor(portal.pool, 'Probe Egen A/S');
    const theirs = await createVendor(portal.pool, 'Probe Anden A/S');
    await registerSystem(portal.pool, { username: 'probe-anden', vendor: theirs.name, dataDir: portal.config.dataDir });
    const p = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: mine.id });
    const c = portal.client();
    await c.get('/login');
    await c.submit('/login', { email: p.email, password: p.password }, { csrf: c.csrf });
    const detail = async (name: string) => {
      const res = await c.api('POST', `/api/v1/systems/${name}/keys`, { sshPublicKey: 'ssh-ed25519 AAAA' });
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return (await res.json()).detail;
    };
    expect(await detail('probe-anden')).toBe("No system 'probe-anden'.");
    expect(await detail('probe-ingen')).toBe("No system 'probe-ingen'.");
  });

  it('guesses sent all at once get no more answers than the lockout allows, and the lock holds', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    await c.get('/login');
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.submit('/login', { email: p.email, password: `wrong guess number ${i}` }, { csrf: c.csrf }).then((r) => r.status)),
    );
    // Nine wrong answers, then the lock; each parallel guess past it is locked out too.
    expect(guesses.filter((s) => s === 401)).toHaveLength(9);
    expect(guesses.filter((s) => s === 429)).toHaveLength(21);
    expect((await c.submit('/login', { email: p.email, password: p.password }, { csrf: c.csrf })).status).toBe(429);
  });

  it('a day, id or quarter the database or the calendar cannot hold is a 400 naming it, not a 500', async () => {
    const op = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(op);
    const api = async (path: string, field: string) => {
      const res = await c.get(path);
      expect([path, res.status]).toEqual([path, 400]);
      const problem = await res.json();
      expect(problem.detail).toContain(field);
      return problem;
    };
    // A day the calendar lacks is refused as /usage refuses one: the code day-invalid, the field named.
    for (const day of ['2026-02-30', '0000-01-01']) {
      const problem = await api(`/api/v1/transfers?since=${day}`, `«${day}»`);
      expect([problem.code, problem.errors]).toEqual(['day-invalid', [{ pointer: '#/since', field: 'since', detail: problem.detail }]]);
    }
    await api('/api/v1/agreements?after=99999999999', 'after');
    // ajv takes 1e400 for the integer Infinity, past its maximum.
    // The value is named as the client wrote it, not as the Infinity ajv made of it.
    for (const [path, field, value] of [['/api/v1/agreements?after=1e400', 'after', '1e400'], ['/api/v1/agreements?limit=1e400', 'limit', '1e400'], ['/api/v1/transfers?status=failed&limit=1E400', 'limit', '1E400'], ['/api/v1/notices?limit=-1e400', 'limit', '-1e400']] as const) {
      const problem = await api(path, 'must be a whole number');
      expect([path, problem.detail]).toEqual([path, expect.stringContaining(`${field} «${value}»`)]);
      expect([path, problem.errors]).toEqual([path, [{ pointer: `#/${field}`, field, detail: expect.stringContaining(`«${value}»`) }]]);
    }
    const page = async (path: string, said: string) => {
      const res = await c.get(path);
      expect([path, res.status]).toEqual([path, 400]);
      expect(await res.text()).toContain(said);
    };
    await page('/transfers?since=0000-01-01', '«0000-01-01»');
    // Past bigint: the pages' schema names it (nothing after it checks the id again).
    await page('/notices?after=99999999999999999999', '«99999999999999999999»');
    await page('/outbox?after=99999999999999999999', '«99999999999999999999»');
    await page('/usage?quarter=9999Q4', '«9999Q4»');
    await page('/usage/invoice.csv?quarter=9999Q4', '«9999Q4»');
    await page('/usage/invoice.csv?quarter=0000Q1', '«0000Q1»');
  });

  it('Forbrug over the whole calendar, with no usage yet, is an empty page; the API names a last day it cannot count past', async () => {
    expect((await portal.pool.query('SELECT 1 FROM usage_daily')).rowCount).toBe(0);
    const op = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(op);
    for (const path of ['/usage?from=0001-01-01&to=9999-12-31', '/usage?from=0500-01-01&to=0600-12-31&by=quarter', '/usage.csv?from=0001-01-01&to=9999-12-31']) {
      expect([path, (await c.get(path)).status]).toEqual([path, 200]);
    }
    const api = await c.get('/api/v1/usage?from=9995-01-01&to=9999-12-31');
    expect(api.status).toBe(400);
    expect((await api.json()).errors).toEqual([expect.objectContaining({ field: 'to' })]);
    expect((await c.get('/api/v1/usage?from=9995-01-01&to=9999-12-30')).status).toBe(200);
  });

  it('an address the router cannot decode, or with a very long name in it, is answered by the portal with its headers', async () => {
    const long = 'a'.repeat(600);
    for (const [path, status] of [['/%E0%A4%A', 404], ['/systems/%zz', 303], [`/systems/${long}`, 303], ['/api/v1/%E0%A4%A', 404], [`/api/v1/transfers/${long}`, 401]] as const) {
      const res = await fetch(`${portal.baseUrl}${path}`, { redirect: 'manual' });
      expect([path, res.status]).toEqual([path, status]);
      expectSecurityHeaders(res);
    }
    const op = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(op);
    for (const path of ['/systems/%E0%A4%A', `/systems/${long}`, `/transfers/${long}`]) {
      const res = await c.get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(await res.text()).toContain(da['error.404']);
    }
    for (const [path, status] of [['/api/v1/transfers/%E0%A4%A', 404], [`/api/v1/transfers/${long}`, 400]] as const) {
      const res = await c.get(path);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it("Brugere says who was disabled or enabled only of a person the admin sees in that state, never the address's text", async () => {
    const op = await addPerson(portal.pool, { role: 'operator' });
    const target = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(op);
    const disabled = await c.submit(`/users/${target.id}/disable`, {}, { from: '/users' });
    expect(disabled.status).toBe(303);
    const notice = async (query: string) => /<p class="notice" role="status">([^<]*)<\/p>/.exec(await (await c.get(`/users?${query}`)).text())?.[1];
    expect(await notice(disabled.headers.get('location')!.split('?')[1]!)).toBe(`${target.email} er spærret; personens sessioner, API-tokens og åbne links er lukket.`);
    expect(await notice(`disabled=${encodeURIComponent('Din konto er kompromitteret. Ring straks til 12 34 56 78, og')}`)).toBeUndefined();
    expect(await notice(`enabled=${encodeURIComponent(target.email)}`)).toBeUndefined();
    expect(await notice(`disabled=${encodeURIComponent(op.email)}`)).toBeUndefined();
  });

  it('a NUL in the address is a 400 naming it, not a 500', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    await c.get('/login');
    await c.submit('/login', { email: p.email, password: p.password }, { csrf: c.csrf });
    expect((await c.get('/systems/%00')).status).toBe(400);
    const api = await c.get('/api/v1/agreements?system=%00');
    expect(api.status).toBe(400);
    expect((await api.json()).detail).toBe('The address holds a NUL character (%00); remove it.');
  });

  it('a NUL in a JSON or form field is a 400 naming the field, not a 500', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(p);
    for (const [path, body, field] of [
      ['/api/v1/agreements', { system: 'sys\u0000', service: 'send', authorities: ['0751'] }, 'system'],
      ['/api/v1/systems', { username: 'nul-system', sshPublicKey: 'ssh-ed25519 AAAA', vendor: 'V\u0000' }, 'vendor'],
      ['/api/v1/agreements', { system: 'x', service: 'send', authorities: ['0751', '\u0000'] }, 'authorities.1'],
    ] as const) {
      const res = await c.api('POST', path, body);
      expect([path, res.status]).toEqual([path, 400]);
      expect((await res.json()).errors).toEqual([expect.objectContaining({ field, detail: expect.stringContaining('NUL') })]);
    }
    const form = await c.submit('/vendors', { name: 'Nul\u0000 A/S' });
    expect(form.status).toBe(400);
  });
});

describe('behind a proxy', () => {
  it('reads the client address from X-Forwarded-For only from a trusted proxy (login failures count per real address)', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const addresses = async () => (await portal.pool.query<{ address: string }>(`SELECT DISTINCT address FROM login_failures WHERE email = $1 ORDER BY address`, [p.email])).rows.map((r) => r.address);
    const fail = async (c: ReturnType<TestPortal['client']>, from: string) => {
      await c.get('/login');
      const body = new URLSearchParams({ email: p.email, password: 'wrong password here', _csrf: c.csrf });
      return c.fetch('/login', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from } });
    };
    expect((await fail(portal.client(), '203.0.113.7')).status).toBe(401);
    expect(await addresses()).toEqual(['127.0.0.1']);

    const proxied = await startPortal({ db: portal.db, env: { PORTAL_TRUST_PROXY: '127.0.0.1' } });
    try {
      expect((await fail(proxied.client(), '203.0.113.7')).status).toBe(401);
      expect((await fail(proxied.client(), '198.51.100.9')).status).toBe(401);
      expect(await addresses()).toEqual(['127.0.0.1', '198.51.100.9', '203.0.113.7']);
    } finally {
      await proxied.close();
    }
  });

  it('PORTAL_TRUST_PROXY=true (docker-compose) takes the address the proxy added, not one the client wrote before it', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const proxied = await startPortal({ db: portal.db, env: { PORTAL_TRUST_PROXY: 'true' } });
    try {
      // HAProxy's `option forwardfor` appends the client's address after any X-Forwarded-For the client
      // sent itself: an attacker writing a new address on each guess is still one client.
      const guess = async (i: number) => {
        const c = proxied.client();
        await c.get('/login');
        const body = new URLSearchParams({ email: p.email, password: `wrong guess ${i}`, _csrf: c.csrf });
        const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `203.0.113.${i}, 198.51.100.9` };
        return (await c.fetch('/login', { method: 'POST', body, headers })).status;
      };
      const answers: number[] = [];
      for (let i = 1; i <= 10; i++) answers.push(await guess(i));
      expect(answers).toEqual([...Array(9).fill(401), 429]);
      const { rows } = await portal.pool.query(`SELECT address FROM login_lockouts WHERE email = $1`, [p.email]);
      expect(rows).toEqual([{ address: '198.51.100.9' }]);
    } finally {
      await proxied.close();
    }
  });
});

describe('Brugere: who may manage whom', () => {
  it('admins see and manage only their own organisation; others are 404, *-user roles 403', async () => {
    const [a, b] = [await createVendor(portal.pool, 'Scope Vendor A'), await createVendor(portal.pool, 'Scope Vendor B')];
    const adminA = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: a.id });
    const userA = await addPerson(portal.pool, { role: 'vendor-user', vendorId: a.id });
    const userB = await addPerson(portal.pool, { role: 'vendor-user', vendorId: b.id });
    const aarhus = (await portal.pool.query<{ id: number }>(`SELECT id FROM authorities WHERE kommunekode = '0751'`)).rows[0]!;
    const authorityAdmin = await addPerson(portal.pool, { role: 'authority-admin', authorityId: aarhus.id });
    const op = await addPerson(portal.pool, { role: 'operator' });

    const asAdminA = await portal.login(adminA);
    const list = await (await asAdminA.get('/users')).text();
    expect(list).toContain(userA.email);
    expect(list).not.toContain(userB.email);
    expect(list).not.toContain(authorityAdmin.email);
    expect(list).not.toContain(op.email);
    for (const target of [userB, authorityAdmin, op]) {
      expect((await asAdminA.submit(`/users/${target.id}/disable`, {}, { from: '/users' })).status).toBe(404);
    }
    expect((await asAdminA.submit(`/users/999999/disable`, {}, { from: '/users' })).status).toBe(404);
    expect((await asAdminA.submit(`/users/${userB.id}/reset`, {}, { from: '/users' })).status).toBe(404);
    const reset = await asAdminA.submit(`/users/${userA.id}/reset`, {}, { from: '/users' });
    expect(reset.status).toBe(200);
    expect(await reset.text()).toMatch(new RegExp(`${portal.baseUrl}/reset/[A-Za-z0-9_-]{43}`));
    expect((await asAdminA.submit(`/users/${userA.id}/disable`, {}, { from: '/users' })).status).toBe(303);

    // An admin invites into its own organisation only, whatever the form says.
    expect((await asAdminA.submit('/users/invite', { email: 'new-a@example.dk', role: 'vendor-user', vendor: String(b.id) }, { from: '/users' })).status).toBe(200);
    const { rows } = await portal.pool.query(`SELECT vendor_id FROM users WHERE email = 'new-a@example.dk'`);
    expect(rows[0].vendor_id).toBe(a.id);
    expect((await asAdminA.submit('/users/invite', { email: 'new-op@example.dk', role: 'operator' }, { from: '/users' })).status).toBe(400);
    expect(await userCount('new-op@example.dk')).toBe(0);

    const other = await addPerson(portal.pool, { role: 'vendor-user', vendorId: a.id });
    const asUserA = await portal.login(other);
    expect((await asUserA.get('/users')).status).toBe(403);
    expect((await asUserA.submit(`/users/${userA.id}/enable`, {}, { from: '/' })).status).toBe(403);

    const asAuthority = await portal.login(authorityAdmin);
    expect((await asAuthority.submit(`/users/${userA.id}/enable`, {}, { from: '/users' })).status).toBe(404);
    const asOperator = await portal.login(op);
    expect((await asOperator.submit(`/users/${userA.id}/enable`, {}, { from: '/users' })).status).toBe(303);
    expect((await asOperator.submit(`/users/${op.id}/disable`, {}, { from: '/users' })).status).toBe(409);
  });

  it('an operator invites into any organisation; an authority added by an operator is offered too', async () => {
    const region = await addAuthority(portal.pool, { cvr: '29190925', name: 'Region Test' }, 'test');
    const op = await addPerson(portal.pool, { role: 'operator' });
    const s = await portal.login(op);
    const page = await (await s.get('/users')).text();
    expect(page).toContain('0751 Aarhus');
    expect(page).toContain('Region Test (CVR 29190925)');
    const res = await s.submit('/users/invite', { email: 'rita@region.dk', role: 'authority-admin', authority: String(region.id) }, { from: '/users' });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/\/invitation\/[A-Za-z0-9_-]{43}/);
    const missing = await s.submit('/users/invite', { email: 'nobody@region.dk', role: 'authority-admin' }, { from: '/users' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('Vælg den organisation');
  });
});

describe('message catalogues', () => {
  it('every text key a template uses exists', () => {
    const used = new Set<string>();
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    for (const file of walk(viewsDir).filter((f) => f.endsWith('.eta'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/it\.t\('([^']+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(10);
    // `it.t('role.' + u.role)`: a prefix, completed at render time.
    const known = (k: string) => (k.endsWith('.') ? Object.keys(da).some((key) => key.startsWith(k)) : k in da);
    expect([...used].filter((k) => !known(k))).toEqual([]);
  });
});

describe('Brugere on a fresh installation', () => {
  it('with no vendor yet, the invitation form says to add one under Leverandører first', async () => {
    const fresh = await startPortal();
    try {
      const op = await addPerson(fresh.pool, { role: 'operator' });
      const asOperator = await fresh.login(op);
      const hint = 'Der er ingen leverandører endnu. Opret leverandøren under Leverandører, før du inviterer dens folk.';
      const page = await (await asOperator.get('/users')).text();
      expect(page).toContain(hint);
      expect(page).toMatch(/<select id="invite-vendor" name="vendor" aria-describedby="invite-vendor-hint">/);
      // Refused for want of a vendor: the same words where the person looks, the role kept.
      const refused = await asOperator.submit('/users/invite', { email: 'lev@fagsystem.dk', role: 'vendor-admin' }, { from: '/users' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain(hint);
      await createVendor(fresh.pool, 'Fagsystem A/S');
      expect(await (await asOperator.get('/users')).text()).not.toContain(hint);
    } finally {
      await fresh.close();
    }
  });
});
