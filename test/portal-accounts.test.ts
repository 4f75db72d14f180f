import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiToken } from '../src/accounts/api-tokens.js';
import { inviteUser } from '../src/accounts/invite-user.js';
import { login } from '../src/accounts/login.js';
import { requestOwnReset, resetUser, setUserDisabled } from '../src/accounts/manage-user.js';
import { createVendor } from './helpers/factories.js';
import { addPerson, apiToken, startPortal, type TestPortal } from './helpers/portal.js';
import { waitUntil } from './helpers/wait.js';

let now = Date.parse('2026-06-01T08:00:00Z');
const clock = () => new Date(now);
let portal: TestPortal;

beforeAll(async () => {
  portal = await startPortal({ clock });
});
afterAll(async () => portal?.close());

async function invite(email: string, role: 'operator' | 'vendor-admin' = 'operator', vendorId?: number) {
  return inviteUser(portal.pool, { email, role, vendorId }, 'test', { publicUrl: portal.baseUrl, clock });
}

function linkPath(url: string): string {
  return url.slice(portal.baseUrl.length);
}

async function audited(email: string): Promise<string[]> {
  const { rows } = await portal.pool.query<{ action: string }>(`SELECT action FROM audit_log WHERE entity = 'user' AND entity_id = $1 ORDER BY id`, [email]);
  return rows.map((r) => r.action);
}

/**
 * Two steps that meet at a lock: a third connection holds `table` (SHARE), the first step starts and
 * waits at it, then the second; the lock is let go and both finish. The race decided by row locks,
 * not by timing.
 */
async function bothAtLock<A, B>(table: string, first: [string, () => Promise<A>], second: [string, () => Promise<B>]): Promise<[A, B]> {
  const waiting = async () => (await portal.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number;
  const holder = await portal.pool.connect();
  let a: Promise<A>;
  let b: Promise<B>;
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN SHARE MODE`);
    a = first[1]();
    await waitUntil(`${first[0]} at a lock`, async () => (await waiting()) >= 1);
    b = second[1]();
    await waitUntil(`${second[0]} at a lock too`, async () => (await waiting()) >= 2);
  } finally {
    await holder.query('COMMIT');
    holder.release();
  }
  return Promise.all([a!, b!]);
}

describe('accounts', () => {
  it('invitation → set password → login → /api/v1/me → logout', async () => {
    const inv = await invite('Anna@Example.dk');
    const c = portal.client();
    const form = await c.get(linkPath(inv.link.url));
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('anna@example.dk');
    const set = await c.submit(linkPath(inv.link.url), { password: 'a fine long passphrase', repeat: 'a fine long passphrase' }, { csrf: c.csrf });
    expect(set.status).toBe(303);
    expect(set.headers.get('location')).toBe('/login?done=password');

    const before = c.cookie('filudveksling_session');
    const login = await c.submit('/login', { email: 'anna@example.dk', password: 'a fine long passphrase' });
    expect(login.status).toBe(303);
    const session = c.cookie('filudveksling_session');
    expect(session).toBeDefined();
    expect(session).not.toBe(before);
    const me = await c.api('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ email: 'anna@example.dk', name: '', role: 'operator', language: 'da' });

    const out = await c.submit('/logout', {}, { from: '/' });
    expect(out.status).toBe(303);
    // The old cookie no longer works, even if a copy of it is sent.
    const stale = await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { cookie: `filudveksling_session=${session}` } });
    expect(stale.status).toBe(401);
    expect(await audited('anna@example.dk')).toEqual(['user.invite', 'user.accept-invitation', 'user.login', 'user.logout']);
  });

  it('a logout ends the session and writes its audit row in one transaction: neither without the other', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(p);
    // The audit row refused (as a full disk or a broken constraint would): the session must not end either.
    await portal.pool.query(`CREATE FUNCTION refuse_logout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`);
    await portal.pool.query(`CREATE TRIGGER refuse_logout BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'user.logout') EXECUTE FUNCTION refuse_logout()`);
    try {
      expect((await c.submit('/logout', {}, { from: '/' })).status).toBe(500);
    } finally {
      await portal.pool.query('DROP TRIGGER refuse_logout ON audit_log; DROP FUNCTION refuse_logout()');
    }
    expect((await c.api('GET', '/api/v1/me')).status).toBe(200);
    expect(await audited(p.email)).not.toContain('user.logout');

    expect((await c.submit('/logout', {}, { from: '/' })).status).toBe(303);
    expect((await c.api('GET', '/api/v1/me')).status).toBe(401);
    const { rows } = await portal.pool.query(`SELECT actor, after FROM audit_log WHERE action = 'user.logout' AND entity_id = $1`, [p.email]);
    expect(rows).toEqual([{ actor: p.email, after: { address: '127.0.0.1' } }]);
  });

  it('a login gets a new session id, and the one the browser had before ends', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(p);
    const first = c.cookie('filudveksling_session')!;
    // Logged in, /login sends the browser on; a page of the session carries the form's token.
    await c.submit('/login', { email: p.email, password: p.password }, { from: '/' });
    const second = c.cookie('filudveksling_session')!;
    expect(second).not.toBe(first);
    const old = await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { cookie: `filudveksling_session=${first}` } });
    expect(old.status).toBe(401);
  });

  it('a session starts and ends with a new CSRF secret: a token from before the login or the logout is refused', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    await c.get('/login');
    const before = { token: c.csrf, secret: c.cookie('filudveksling_csrf') };
    expect(before.secret).toBeDefined();
    const login = await c.submit('/login', { email: p.email, password: p.password }, { csrf: before.token });
    expect(login.status).toBe(303);
    expect(c.cookie('filudveksling_csrf')).toBeUndefined();
    // The session's pages make a new secret, which the token from before the login does not match.
    await c.get('/');
    expect(c.cookie('filudveksling_csrf')).not.toBe(before.secret);
    expect((await c.submit('/language', { language: 'en', back: '/' }, { csrf: before.token })).status).toBe(403);
    expect((await c.submit('/language', { language: 'en', back: '/' })).status).toBe(303);
    expect((await c.submit('/logout', {}, { from: '/' })).status).toBe(303);
    expect(c.cookie('filudveksling_csrf')).toBeUndefined();
  });

  it('a CSRF secret planted in the browser (a cookie the login cannot clear) signs no form of the session', async () => {
    // The attacker's own visit gives a valid signed secret and a token of it; a cookie set for the
    // parent domain survives the portal's clearing at login and is sent first, before the portal's own.
    const attacker = portal.client();
    await attacker.get('/login');
    const planted = { secret: attacker.cookie('filudveksling_csrf')!, token: attacker.csrf };
    const p = await addPerson(portal.pool, { role: 'operator' });
    const victim = await portal.login(p);
    const session = victim.cookie('filudveksling_session')!;
    const cookie = `filudveksling_csrf=${planted.secret}; filudveksling_session=${session}`;
    const form = await fetch(`${portal.baseUrl}/language`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ language: 'en', back: '/', _csrf: planted.token }),
    });
    expect(form.status).toBe(403);
    const api = await fetch(`${portal.baseUrl}/api/v1/me`, { method: 'PATCH', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': planted.token }, body: '{"language":"en"}' });
    expect(api.status).toBe(403);
    expect((await portal.pool.query('SELECT language FROM users WHERE id = $1', [p.id])).rows[0].language).toBe('da');
    // The session's own page and token still work.
    expect((await victim.submit('/language', { language: 'en', back: '/' }, { from: '/' })).status).toBe(303);
  });

  it('a form of a session that has since ended is taken as one without a session (logout logs out), not refused as too old', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = await portal.login(p);
    await c.get('/');
    // The session ends meanwhile (an admin's disable and enable, the idle timeout, another tab).
    await portal.pool.query('DELETE FROM sessions WHERE user_id = $1', [p.id]);
    const res = await c.submit('/logout', {}, { csrf: c.csrf });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/login?done=logout']);
  });

  it('an invitation link works once, is replaced by a newer one, and expires after 72 h', async () => {
    const inv = await invite('once@example.dk');
    const c = portal.client();
    await c.get(linkPath(inv.link.url));
    expect((await c.submit(linkPath(inv.link.url), { password: 'first long password', repeat: 'first long password' }, { csrf: c.csrf })).status).toBe(303);
    const again = await c.get(linkPath(inv.link.url));
    expect(again.status).toBe(404);
    expect(await again.text()).toContain('Linket er brugt, udløbet');
    expect((await c.submit(linkPath(inv.link.url), { password: 'second long password', repeat: 'second long password' }, { csrf: c.csrf })).status).toBe(404);

    const late = await invite('late@example.dk');
    now += 72 * 3_600_000 + 1000;
    try {
      expect((await c.get(linkPath(late.link.url))).status).toBe(404);
    } finally {
      now -= 72 * 3_600_000 + 1000;
    }
    expect((await c.get(linkPath(late.link.url))).status).toBe(200);
  });

  it('refuses a short password, the e-mail itself, a common one and two different ones', async () => {
    const inv = await invite('rules@example.dk');
    const c = portal.client();
    const path = linkPath(inv.link.url);
    for (const [password, repeat, text] of [
      ['short pw', 'short pw', 'mindst 12 tegn'],
      ['rules@example.dk', 'rules@example.dk', 'ikke være din e-mail'],
      ['Password1234', 'Password1234', 'for almindelig'],
      ['rules@example.dk 2026', 'rules@example.dk 2026', 'ikke være din e-mail'],
      ['            ', '            ', 'for almindelig'],
      ['xyxyxyxyxyxy', 'xyxyxyxyxyxy', 'for almindelig'],
      ['a good long password', 'another long password', 'ikke ens'],
    ] as const) {
      const res = await c.submit(path, { password, repeat });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(text);
    }
    expect((await c.get(path)).status).toBe(200); // still usable
  });

  it('answers an unknown e-mail exactly as a wrong password', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    const wrong = await c.submit('/login', { email: p.email, password: 'not the password at all' });
    const unknown = await c.submit('/login', { email: 'nobody@example.dk', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (html: string) => html.replace(/(name="_csrf" value="|csrf-token" content=")[^"]*"/g, '$1"').replace(/value="[^"]*@example\.dk"/, 'value=""');
    expect(strip(await unknown.text())).toBe(strip(await wrong.text()));
  });

  it('locks an (account, address) pair after 10 failures in 15 min, for 15 min', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    for (let i = 1; i <= 9; i++) expect((await c.submit('/login', { email: p.email, password: `wrong password ${i}` })).status).toBe(401);
    const tenth = await c.submit('/login', { email: p.email, password: 'wrong password 10' });
    expect(tenth.status).toBe(429);
    // Locked: even the right password is refused.
    const right = await c.submit('/login', { email: p.email, password: p.password });
    expect(right.status).toBe(429);
    expect(await right.text()).toContain('For mange forkerte forsøg');
    expect(await audited(p.email)).toContain('user.locked');
    now += 15 * 60_000 + 1000;
    expect((await c.submit('/login', { email: p.email, password: p.password })).status).toBe(303);
  });

  it('failures spread over more than 15 min do not lock', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const c = portal.client();
    for (let i = 1; i <= 9; i++) expect((await c.submit('/login', { email: p.email, password: `wrong ${i} password` })).status).toBe(401);
    now += 16 * 60_000;
    expect((await c.submit('/login', { email: p.email, password: 'wrong 10 password' })).status).toBe(401);
    expect((await c.submit('/login', { email: p.email, password: p.password })).status).toBe(303);
  });

  it('ends a session idle for 8 h, and any session after 24 h', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const idle = await portal.login(p);
    now += 8 * 3_600_000 + 1000;
    expect((await idle.api('GET', '/api/v1/me')).status).toBe(401);

    const busy = await portal.login(p);
    for (let h = 0; h < 23; h++) {
      now += 3_600_000;
      expect((await busy.api('GET', '/api/v1/me')).status).toBe(200);
    }
    now += 3_600_000 + 1000;
    expect((await busy.api('GET', '/api/v1/me')).status).toBe(401);
  });

  it('a disabled person is logged out, cannot log in, and their token stops working', async () => {
    const vendor = await createVendor(portal.pool, 'Disable Vendor');
    const admin = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: vendor.id });
    const p = await addPerson(portal.pool, { role: 'vendor-user', vendorId: vendor.id });
    const token = await apiToken(portal.pool, p.email);
    const session = await portal.login(p);
    const a = await portal.login(admin);
    const res = await a.submit(`/users/${p.id}/disable`, {}, { from: '/users' });
    expect(res.status).toBe(303);
    expect((await session.api('GET', '/api/v1/me')).status).toBe(401);
    expect((await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await portal.client().submit('/login', { email: p.email, password: p.password })).status).toBe(401);
    expect(await audited(p.email)).toContain('user.disable');
    const { rows } = await portal.pool.query(`SELECT actor FROM audit_log WHERE action = 'user.disable' AND entity_id = $1`, [p.email]);
    expect(rows[0].actor).toBe(admin.email);
  });

  it('enabled again, a person logs in with their password; API tokens and links from before the disable stay dead', async () => {
    const vendor = await createVendor(portal.pool, 'Enable Vendor');
    const admin = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: vendor.id });
    const p = await addPerson(portal.pool, { role: 'vendor-user', vendorId: vendor.id });
    const token = await apiToken(portal.pool, p.email);
    const link = (await resetUser(portal.pool, p.email, admin.email, { publicUrl: portal.baseUrl, clock })).link;
    const a = await portal.login(admin);
    const disabled = await a.submit(`/users/${p.id}/disable`, {}, { from: '/users' });
    expect(disabled.status).toBe(303);
    const page = await a.get(disabled.headers.get('location')!);
    expect(await page.text()).toContain(`${p.email} er spærret; personens sessioner, API-tokens og åbne links er lukket.`);
    expect((await a.submit(`/users/${p.id}/enable`, {}, { from: '/users' })).status).toBe(303);

    expect((await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await portal.client().get(linkPath(link.url))).status).not.toBe(200);
    expect((await portal.client().submit('/login', { email: p.email, password: p.password })).status).toBe(303);
    const { rows } = await portal.pool.query(`SELECT after FROM audit_log WHERE action = 'user.disable' AND entity_id = $1`, [p.email]);
    expect(rows).toEqual([{ after: { disabled: true, tokensRevoked: [expect.any(Number)], linksEnded: 1 } }]);
  });

  it('a token made while the person is being disabled is revoked with the others, not left to come back with an enable', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    // Both wait at api_tokens, held by a third connection: the token's check is read before the disable starts.
    const [{ token }] = await bothAtLock('api_tokens', ['the token', () => createApiToken(portal.pool, p.email, 'operator@example.dk')], ['the disable', () => setUserDisabled(portal.pool, p.email, true, 'operator@example.dk')]);
    await setUserDisabled(portal.pool, p.email, false, 'operator@example.dk');
    expect((await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const { rows } = await portal.pool.query(`SELECT after FROM audit_log WHERE action = 'user.disable' AND entity_id = $1`, [p.email]);
    expect(rows).toEqual([{ after: { disabled: true, tokensRevoked: [expect.any(Number)], linksEnded: 0 } }]);
  });

  it('a login decided while the person is being disabled leaves no session to come back with an enable', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    // The login (password checked, the person read before the disable) and the disable both wait at
    // sessions, held by a third connection.
    await bothAtLock(
      'sessions',
      ['the login', () => login(portal.pool, { email: p.email, password: p.password, address: '192.0.2.7' }, clock)],
      ['the disable', () => setUserDisabled(portal.pool, p.email, true, 'operator@example.dk')],
    );
    await setUserDisabled(portal.pool, p.email, false, 'operator@example.dk');
    const { rows } = await portal.pool.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [p.id]);
    expect(rows[0].n).toBe(0);
  });

  it('a reset link made while the person is being disabled is ended with the others, by an admin or the person', async () => {
    const opts = { publicUrl: portal.baseUrl, clock };
    const resets: Array<[string, (email: string) => Promise<unknown>]> = [
      ['by an admin', (email) => resetUser(portal.pool, email, 'operator@example.dk', opts)],
      ['forgot password', (email) => requestOwnReset(portal.pool, email, opts)],
    ];
    for (const [how, reset] of resets) {
      const p = await addPerson(portal.pool, { role: 'operator' });
      // The disable waits at account_links, held by a third connection, once it has disabled the
      // person (not yet committed); the reset reads the person then, and waits too.
      await bothAtLock('account_links', ['the disable', () => setUserDisabled(portal.pool, p.email, true, 'operator@example.dk')], ['the reset', () => reset(p.email).catch((err: Error) => err.message)]);
      const open = await portal.pool.query('SELECT count(*)::int AS n FROM account_links WHERE user_id = $1 AND used_at IS NULL', [p.id]);
      expect([how, open.rows[0].n]).toEqual([how, 0]);
    }
  });

  it('"forgot password" is offered only with mail, answers alike for every address, and links active accounts only', async () => {
    expect((await portal.client().get('/forgot')).status).toBe(404);
    expect(await (await portal.client().get('/login')).text()).not.toContain('Glemt adgangskode?');

    const mailing = await startPortal({ clock, db: portal.db, env: { SMTP_URL: 'smtp://127.0.0.1:1' } });
    try {
      const active = await addPerson(portal.pool, { role: 'operator' });
      const invited = await invite('invited-only@example.dk');
      const c = mailing.client();
      expect(await (await c.get('/login')).text()).toContain('href="/forgot"');
      const strip = (html: string) => html.replace(/(name="_csrf" value="|csrf-token" content=")[^"]*"/g, '$1"');
      const answers = [];
      for (const email of [active.email, 'nobody-here@example.dk', invited.email]) {
        const res = await c.submit('/forgot', { email });
        expect(res.status).toBe(200);
        answers.push(strip(await res.text()));
      }
      expect(new Set(answers).size).toBe(1);
      expect(answers[0]).toContain('Hvis adressen har en konto');
      const links = (email: string) => portal.pool.query(`SELECT l.purpose FROM account_links l JOIN users u ON u.id = l.user_id WHERE u.email = $1 AND l.used_at IS NULL`, [email]);
      await waitUntil('the reset link of the active account', async () => (await links(active.email)).rows[0]?.purpose === 'reset');
      expect((await links(invited.email)).rows).toEqual([{ purpose: 'invitation' }]);
      expect((await c.get(linkPath(invited.link.url))).status).toBe(200);
      expect(await audited(active.email)).toContain('user.reset');
    } finally {
      await mailing.close();
    }
  });

  it('"forgot password" asked again within 15 min keeps the link already mailed (no mail flood, no link replaced by a stranger)', async () => {
    const p = await addPerson(portal.pool, { role: 'operator' });
    const opts = { publicUrl: portal.baseUrl, clock };
    const links = async () =>
      (await portal.pool.query(`SELECT l.used_at IS NULL AS open FROM account_links l JOIN users u ON u.id = l.user_id WHERE u.email = $1 AND l.purpose = 'reset' ORDER BY l.created_at`, [p.email])).rows.map((r) => r.open);
    // The /forgot page calls requestOwnReset for any address anyone types (it answers before it is done).
    expect(await requestOwnReset(portal.pool, p.email, opts)).toBe(true);
    for (let i = 0; i < 5; i++) await requestOwnReset(portal.pool, p.email.toUpperCase(), opts);
    expect(await links()).toEqual([true]);
    expect((await portal.pool.query(`SELECT 1 FROM notices WHERE email = $1 AND event = 'account.reset'`, [p.email])).rowCount).toBe(1);
    now += 15 * 60_000 + 1000;
    expect(await requestOwnReset(portal.pool, p.email, opts)).toBe(true);
    expect(await links()).toEqual([false, true]);
    // An admin's new link is not held back.
    now += 1000;
    await resetUser(portal.pool, p.email, 'admin@example.dk', opts);
    expect(await links()).toEqual([false, false, true]);
  });
});
