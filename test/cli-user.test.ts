import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { startPortal, type TestPortal } from './helpers/portal.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
let portal: TestPortal;
const run = (...args: string[]) => cli(args, env);

beforeAll(async () => {
  db = await createTestDatabase('cliuser');
  dir = mkdtempSync(join(tmpdir(), 'fu-cliuser-'));
  portal = await startPortal({ db });
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: join(dir, 'data'), PORTAL_PUBLIC_URL: portal.baseUrl };
  expect((await run('vendor', 'add', 'Acme IT')).code).toBe(0);
});
afterAll(async () => {
  await portal?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function auditOf(email: string) {
  const { rows } = await db.pool.query(`SELECT actor, action FROM audit_log WHERE entity = 'user' AND entity_id = $1 ORDER BY id`, [email]);
  return rows;
}

describe('user', () => {
  it('invite prints a one-time link to the public URL that sets the password', async () => {
    const r = await run('user', 'invite', 'First.Operator@Example.dk', '--role', 'operator', '--name', 'Første Operatør', '--by', 'kombit-ops');
    expect(r.code).toBe(0);
    const link = /(http:\/\/\S+\/invitation\/[A-Za-z0-9_-]{43})/.exec(r.stdout)?.[1];
    expect(link).toBeDefined();
    expect(r.stdout).toContain('Invited first.operator@example.dk as operator');

    const c = portal.client();
    await c.get(link!.slice(portal.baseUrl.length));
    expect((await c.submit(link!.slice(portal.baseUrl.length), { password: 'the first operator pw', repeat: 'the first operator pw' }, { csrf: c.csrf })).status).toBe(303);
    expect((await c.submit('/login', { email: 'first.operator@example.dk', password: 'the first operator pw' })).status).toBe(303);
    expect(await auditOf('first.operator@example.dk')).toEqual([
      { actor: 'kombit-ops', action: 'user.invite' },
      { actor: 'first.operator@example.dk', action: 'user.accept-invitation' },
      { actor: 'first.operator@example.dk', action: 'user.login' },
    ]);
  });

  it('invite --json; vendor and authority people name their organisation', async () => {
    const v = await run('user', 'invite', 'vendor.admin@acme.dk', '--role', 'vendor-admin', '--vendor', 'Acme IT', '--json');
    expect(v.code).toBe(0);
    expect(v.json()).toMatchObject({ email: 'vendor.admin@acme.dk', role: 'vendor-admin', link: expect.stringMatching(/\/invitation\//) });
    expect((await run('user', 'invite', 'dpo@aarhus.dk', '--role', 'authority-admin', '--authority', '751')).code).toBe(0);
    const list = await run('user', 'list', '--json');
    expect(list.code).toBe(0);
    expect(list.json()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ email: 'vendor.admin@acme.dk', role: 'vendor-admin', vendor: 'Acme IT', authority: null, state: 'invited' }),
        expect.objectContaining({ email: 'dpo@aarhus.dk', role: 'authority-admin', vendor: null, authority: '0751 Aarhus', state: 'invited' }),
      ]),
    );
    expect((await run('user', 'list', '--authority', '0751', '--json')).json().map((u: { email: string }) => u.email)).toEqual(['dpo@aarhus.dk']);
    expect((await run('user', 'list', '--vendor', 'Acme IT', '--json')).json().map((u: { email: string }) => u.email)).toEqual(['vendor.admin@acme.dk']);
    const human = await run('user', 'list');
    expect(human.stdout).toMatch(/EMAIL\s+NAME\s+ROLE\s+ORGANISATION\s+STATE/);
  });

  it('refuses bad usage with 2 and what cannot be done with 1, naming the value', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['user', 'invite', 'x@example.dk'], 2, /--role/],
      [['user', 'invite', 'x@example.dk', '--role', 'boss'], 2, /boss/],
      [['user', 'invite', 'not-an-email', '--role', 'operator'], 2, /'not-an-email' is not an e-mail address/],
      [['user', 'invite', 'x@example.dk', '--role', 'vendor-user'], 2, /give --vendor/],
      [['user', 'invite', 'x@example.dk', '--role', 'operator', '--vendor', 'Acme IT'], 2, /leave out/],
      [['user', 'invite', 'x@example.dk', '--role', 'authority-user', '--authority', '12'], 2, /'12'/],
      [['user', 'invite', 'x@example.dk', '--role', 'vendor-user', '--vendor', 'Nobody Inc'], 1, /Unknown vendor 'Nobody Inc'/],
      [['user', 'invite', 'vendor.admin@acme.dk', '--role', 'vendor-user', '--vendor', 'Acme IT'], 1, /already has an account/],
      [['user', 'disable', 'ghost@example.dk'], 1, /No person with the e-mail 'ghost@example.dk'/],
      [['user', 'token', 'ghost@example.dk'], 1, /ghost@example.dk/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(...args, '--json');
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.json().error).toMatch(message);
    }
    expect((await run('user', 'list', '--json')).json().some((u: { email: string }) => u.email === 'x@example.dk')).toBe(false);
  });

  it('disable and enable, each once; reset gives a new link and the old one stops', async () => {
    expect((await run('user', 'invite', 'dora@acme.dk', '--role', 'vendor-user', '--vendor', 'Acme IT')).code).toBe(0);
    expect((await run('user', 'disable', 'dora@acme.dk')).stdout).toContain('dora@acme.dk is disabled; their sessions are ended and their API tokens and one-time links revoked.');
    expect((await run('user', 'disable', 'dora@acme.dk')).code).toBe(1);
    expect((await run('user', 'reset', 'dora@acme.dk')).code).toBe(1);
    expect((await run('user', 'enable', 'dora@acme.dk', '--json')).json()).toEqual({ email: 'dora@acme.dk', disabled: false });
    expect((await run('user', 'enable', 'dora@acme.dk')).code).toBe(1);

    const first = (await run('user', 'reset', 'dora@acme.dk', '--json')).json().link as string;
    const second = (await run('user', 'reset', 'dora@acme.dk', '--json')).json().link as string;
    expect(second).not.toBe(first);
    const c = portal.client();
    expect((await c.get(first.slice(portal.baseUrl.length))).status).toBe(404);
    expect((await c.get(second.slice(portal.baseUrl.length))).status).toBe(200);
    expect((await auditOf('dora@acme.dk')).map((r) => r.action)).toEqual(['user.invite', 'user.disable', 'user.enable', 'user.reinvite', 'user.reinvite']);
  });

  it('token --json prints {email, token}; the token calls the API until --revoke', async () => {
    const t = await run('user', 'token', 'vendor.admin@acme.dk', '--json');
    expect(t.code).toBe(0);
    const { email, token } = t.json();
    expect(email).toBe('vendor.admin@acme.dk');
    expect(Object.keys(t.json()).sort()).toEqual(['email', 'token']);
    const me = await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'vendor.admin@acme.dk', role: 'vendor-admin', vendor: 'Acme IT' });
    const { rows } = await db.pool.query(`SELECT encode(token_hash, 'hex') AS h FROM api_tokens`);
    expect(rows.some((r) => r.h.includes(Buffer.from(token).toString('hex')))).toBe(false);

    const revoke = await run('user', 'token', 'vendor.admin@acme.dk', '--revoke', '--json');
    expect(revoke.json()).toEqual({ email: 'vendor.admin@acme.dk', revoked: 1 });
    expect((await fetch(`${portal.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await auditOf('vendor.admin@acme.dk')).map((r) => r.action)).toEqual(['user.invite', 'user.token', 'user.token-revoke']);
  });
});
