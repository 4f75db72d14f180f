import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Role } from '../src/accounts/roles.js';
import { findAuthority } from '../src/authority/find-authority.js';
import { receiveDeclarationDocument } from '../src/infref/declaration.js';
import { addKey, createVendor, generateKeyPair, issueInfRef, registerSystem, type TestSystem } from './helpers/factories.js';
import { addPerson, apiToken, startPortal, type TestPortal } from './helpers/portal.js';

/**
 * Issue 9 item 3: every API endpoint × every role, on its own objects, foreign ones and guessed
 * ids. Out of scope answers 404 (as if it did not exist), a role too weak within scope 403, and
 * what is allowed 2xx. "Own" is vendor A's system sys-a and authority 0751 (Aarhus); "foreign" is
 * vendor B's sys-b and 0101 (København).
 */
const ROLES: Role[] = ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'];
type Expect = [number, number, number, number, number];
const ALL = (s: number): Expect => [s, s, s, s, s];

let portal: TestPortal;
const tokens = new Map<Role, string>();
let sysA: TestSystem;
let sysB: TestSystem;
const authority: Record<string, number> = {};
let municipalities: string[];
let cell = 0;

async function call(role: Role | null, method: string, path: string, body?: unknown): Promise<number> {
  const headers: Record<string, string> = role ? { authorization: `Bearer ${tokens.get(role)}` } : {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${portal.baseUrl}/api/v1${path}`, { method, headers, body: payload });
  await res.arrayBuffer();
  return res.status;
}

async function agreement(system: TestSystem, kommunekode: string, status: 'requested' | 'approved'): Promise<number> {
  const { rows } = await portal.pool.query(
    `INSERT INTO agreements (system_id, service, authority_id, requested_by, status, decided_by, decided_at)
     VALUES ($1, 'send', $2, 'matrix', $3, CASE WHEN $3 = 'approved' THEN 'matrix' END, CASE WHEN $3 = 'approved' THEN now() END) RETURNING id`,
    [system.id, authority[kommunekode], status],
  );
  return rows[0].id;
}

async function transfer(sender: TestSystem, kommunekode: string, recipient?: TestSystem): Promise<string> {
  const id = randomUUID();
  await portal.pool.query(`INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, authority_id, status) VALUES ($1, $2, 'x.trigger', 'x.csv', $3, 'delivered')`, [id, sender.id, authority[kommunekode]]);
  if (recipient) await portal.pool.query(`INSERT INTO deliveries (transfer_id, recipient_system_id, status) VALUES ($1, $2, 'delivered')`, [id, recipient.id]);
  return id;
}

async function infrefWithDocument(owner: TestSystem): Promise<string> {
  const { name } = await issueInfRef(portal.pool, owner.username);
  await receiveDeclarationDocument(portal.pool, name, { name: 'd.pdf', data: Buffer.from('%PDF') }, 'matrix');
  return name;
}

function upload(): FormData {
  const form = new FormData();
  form.append('document', new Blob([Buffer.from('%PDF-1.7')], { type: 'application/pdf' }), 'erklaering.pdf');
  return form;
}

/** One request to make for a cell: made fresh each time, since allowed changes change state. */
interface Case {
  name: string;
  expect: Expect;
  make: () => Promise<{ method: string; path: string; body?: unknown }>;
}

const guessedUuid = '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const CASES: Case[] = [
  { name: 'GET /me', expect: ALL(200), make: async () => ({ method: 'GET', path: '/me' }) },
  { name: 'PATCH /me', expect: ALL(200), make: async () => ({ method: 'PATCH', path: '/me', body: { language: 'da' } }) },
  { name: 'GET /systems', expect: ALL(200), make: async () => ({ method: 'GET', path: '/systems' }) },
  { name: 'GET /agreements', expect: ALL(200), make: async () => ({ method: 'GET', path: '/agreements' }) },
  { name: 'GET /infrefs', expect: ALL(200), make: async () => ({ method: 'GET', path: '/infrefs' }) },
  { name: 'GET /transfers', expect: ALL(200), make: async () => ({ method: 'GET', path: '/transfers' }) },
  { name: 'GET /usage', expect: ALL(200), make: async () => ({ method: 'GET', path: '/usage?group=vendor' }) },
  { name: 'GET /notices', expect: ALL(200), make: async () => ({ method: 'GET', path: '/notices' }) },

  { name: 'POST /systems (for vendor A)', expect: [201, 201, 403, 403, 403], make: async () => ({ method: 'POST', path: '/systems', body: { username: `new-${++cell}`, sshPublicKey: generateKeyPair().publicKey, vendor: 'Vendor A' } }) },
  { name: 'POST /systems (naming vendor B)', expect: [201, 404, 403, 403, 403], make: async () => ({ method: 'POST', path: '/systems', body: { username: `new-${++cell}`, sshPublicKey: generateKeyPair().publicKey, vendor: 'Vendor B' } }) },
  { name: 'POST /systems/{own}/keys', expect: [201, 201, 403, 404, 404], make: async () => ({ method: 'POST', path: `/systems/${sysA.username}/keys`, body: { sshPublicKey: generateKeyPair().publicKey } }) },
  { name: 'POST /systems/{foreign}/keys', expect: [201, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: `/systems/${sysB.username}/keys`, body: { sshPublicKey: generateKeyPair().publicKey } }) },
  { name: 'POST /systems/{guessed}/keys', expect: ALL(404), make: async () => ({ method: 'POST', path: '/systems/sys-guessed/keys', body: { sshPublicKey: generateKeyPair().publicKey } }) },
  { name: 'DELETE /systems/{own}/keys/{fp}', expect: [200, 200, 403, 404, 404], make: async () => ({ method: 'DELETE', path: `/systems/${sysA.username}/keys/${encodeURIComponent((await addKey(portal.pool, sysA.username)).key.fingerprint)}` }) },
  { name: 'DELETE /systems/{foreign}/keys/{fp}', expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'DELETE', path: `/systems/${sysB.username}/keys/${encodeURIComponent((await addKey(portal.pool, sysB.username)).key.fingerprint)}` }) },
  { name: 'DELETE /systems/{own}/keys/{guessed fp}', expect: [404, 404, 403, 404, 404], make: async () => ({ method: 'DELETE', path: `/systems/${sysA.username}/keys/${encodeURIComponent(generateKeyPair().key.fingerprint)}` }) },

  { name: 'POST /agreements (own system)', expect: [201, 201, 403, 404, 404], make: async () => ({ method: 'POST', path: '/agreements', body: { system: sysA.username, service: 'fetch', authorities: [municipalities[++cell % 90]!] } }) },
  { name: 'POST /agreements (foreign system)', expect: [201, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: '/agreements', body: { system: sysB.username, service: 'fetch', authorities: [municipalities[++cell % 90]!] } }) },
  { name: 'POST /agreements (guessed system)', expect: ALL(404), make: async () => ({ method: 'POST', path: '/agreements', body: { system: 'sys-guessed', service: 'fetch', authorities: ['0751'] } }) },
  ...(['approve', 'reject'] as const).flatMap((action): Case[] => {
    const body = action === 'reject' ? { reason: 'nej' } : {};
    return [
      { name: `POST /agreements/{own}/${action}`, expect: [200, 403, 403, 200, 403], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysA, '0751', 'requested')}/${action}`, body }) },
      { name: `POST /agreements/{foreign}/${action}`, expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysB, '0101', 'requested')}/${action}`, body }) },
      { name: `POST /agreements/{own system, foreign authority}/${action}`, expect: [200, 403, 403, 404, 404], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysA, '0101', 'requested')}/${action}`, body }) },
      { name: `POST /agreements/{foreign system, own authority}/${action}`, expect: [200, 404, 404, 200, 403], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysB, '0751', 'requested')}/${action}`, body }) },
      { name: `POST /agreements/{guessed}/${action}`, expect: ALL(404), make: async () => ({ method: 'POST', path: `/agreements/987654321/${action}`, body }) },
    ];
  }),
  { name: 'POST /agreements/{own}/terminate', expect: [200, 403, 403, 200, 403], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysA, '0751', 'approved')}/terminate`, body: { reason: 'slut' } }) },
  { name: 'POST /agreements/{foreign}/terminate', expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysB, '0101', 'approved')}/terminate`, body: { reason: 'slut' } }) },
  { name: 'POST /agreements/{own}/withdraw', expect: [200, 200, 403, 403, 403], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysA, '0751', 'requested')}/withdraw` }) },
  { name: 'POST /agreements/{foreign}/withdraw', expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: `/agreements/${await agreement(sysB, '0101', 'requested')}/withdraw` }) },

  { name: 'POST /infrefs/{own}/declaration', expect: [201, 201, 403, 404, 404], make: async () => ({ method: 'POST', path: `/infrefs/${(await issueInfRef(portal.pool, sysA.username)).name}/declaration`, body: upload() }) },
  { name: 'POST /infrefs/{foreign}/declaration', expect: [201, 404, 404, 404, 404], make: async () => ({ method: 'POST', path: `/infrefs/${(await issueInfRef(portal.pool, sysB.username)).name}/declaration`, body: upload() }) },
  { name: 'POST /infrefs/{guessed}/declaration', expect: ALL(404), make: async () => ({ method: 'POST', path: '/infrefs/FagsystemdefineredeDataRefGDPR99999_1/declaration', body: upload() }) },
  { name: 'GET /infrefs/{own}/declaration/document', expect: [200, 403, 403, 404, 404], make: async () => ({ method: 'GET', path: `/infrefs/${await infrefWithDocument(sysA)}/declaration/document` }) },
  { name: 'GET /infrefs/{foreign}/declaration/document', expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'GET', path: `/infrefs/${await infrefWithDocument(sysB)}/declaration/document` }) },
  { name: 'GET /infrefs/{guessed}/declaration/document', expect: ALL(404), make: async () => ({ method: 'GET', path: '/infrefs/FagsystemdefineredeDataRefGDPR99999_1/declaration/document' }) },

  { name: 'GET /transfers/{own}', expect: ALL(200), make: async () => ({ method: 'GET', path: `/transfers/${await transfer(sysA, '0751')}` }) },
  { name: 'GET /transfers/{received by own, foreign authority}', expect: [200, 200, 200, 404, 404], make: async () => ({ method: 'GET', path: `/transfers/${await transfer(sysB, '0101', sysA)}` }) },
  { name: 'GET /transfers/{foreign}', expect: [200, 404, 404, 404, 404], make: async () => ({ method: 'GET', path: `/transfers/${await transfer(sysB, '0101')}` }) },
  { name: 'GET /transfers/{guessed UUID}', expect: ALL(404), make: async () => ({ method: 'GET', path: `/transfers/${guessedUuid}` }) },
  { name: 'GET /transfers/{not a UUID}', expect: ALL(404), make: async () => ({ method: 'GET', path: '/transfers/1' }) },
];

beforeAll(async () => {
  portal = await startPortal();
  const dataDir = portal.config.dataDir;
  const a = await createVendor(portal.pool, 'Vendor A');
  await createVendor(portal.pool, 'Vendor B');
  sysA = await registerSystem(portal.pool, { username: 'sys-a', vendor: 'Vendor A', dataDir });
  sysB = await registerSystem(portal.pool, { username: 'sys-b', vendor: 'Vendor B', dataDir });
  for (const k of ['0751', '0101']) authority[k] = (await findAuthority(portal.pool, { kind: 'kommunekode', kommunekode: k }))!.id;
  municipalities = (await portal.pool.query("SELECT kommunekode FROM authorities WHERE kommunekode IS NOT NULL AND kommunekode NOT IN ('0751', '0101') ORDER BY 1")).rows.map((r) => r.kommunekode);
  const people: Record<Role, { vendorId?: number; authorityId?: number }> = {
    operator: {},
    'vendor-admin': { vendorId: a.id },
    'vendor-user': { vendorId: a.id },
    'authority-admin': { authorityId: authority['0751'] },
    'authority-user': { authorityId: authority['0751'] },
  };
  for (const role of ROLES) tokens.set(role, await apiToken(portal.pool, (await addPerson(portal.pool, { role, ...people[role] })).email));
}, 60_000);
afterAll(async () => portal?.close());

describe('role × resource matrix (API)', () => {
  it('has a row for every /api/v1 route (but the OpenAPI document, which is public)', () => {
    const rows = new Set(CASES.map((c) => c.name.replace(/ \(.*\)$/, '').replace(/\{[^}]*\}/g, '{}')));
    const routes = portal.app.apiRoutes.filter((r) => !r.url.endsWith('/openapi.json')).map((r) => `${r.method} ${r.url.replace(/^\/api\/v1/, '').replace(/:\w+/g, '{}')}`);
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((r) => !rows.has(r))).toEqual([]);
  });

  it('answers every endpoint for every role: 2xx allowed, 403 role too weak, 404 out of scope or unknown', async () => {
    const got: Record<string, number[]> = {};
    const want: Record<string, number[]> = {};
    for (const c of CASES) {
      got[c.name] = [];
      want[c.name] = c.expect;
      for (const role of ROLES) {
        const r = await c.make();
        got[c.name]!.push(await call(role, r.method, r.path, r.body));
      }
    }
    expect(got).toEqual(want);
  }, 120_000);

  it('answers 401 to every endpoint without credentials', async () => {
    const got: Record<string, number> = {};
    for (const c of CASES) {
      const r = await c.make();
      got[c.name] = await call(null, r.method, r.path, r.body);
    }
    expect(Object.entries(got).filter(([, s]) => s !== 401)).toEqual([]);
  }, 60_000);

  it('lists only what is in scope', async () => {
    const own = await transfer(sysA, '0751');
    const received = await transfer(sysB, '0101', sysA);
    const foreign = await transfer(sysB, '0101');
    const toAarhus = await transfer(sysB, '0751');
    const list = async (role: Role, path: string) => {
      const res = await fetch(`${portal.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${tokens.get(role)}` } });
      return (await res.json()) as any[];
    };
    const systems = async (role: Role) => [...new Set((await list(role, '/systems')).map((s) => s.vendor))].sort();
    expect(await systems('operator')).toEqual(['Vendor A', 'Vendor B']);
    expect(await systems('vendor-user')).toEqual(['Vendor A']);
    expect(await systems('authority-admin')).toEqual([]);

    const agreements = async (role: Role) => (await list(role, '/agreements?limit=1000')).map((g) => `${g.vendor}|${g.authority.kommunekode}`);
    expect(new Set(await agreements('vendor-admin'))).toEqual(new Set((await agreements('operator')).filter((x) => x.startsWith('Vendor A|'))));
    expect(new Set(await agreements('authority-user'))).toEqual(new Set((await agreements('operator')).filter((x) => x.endsWith('|0751'))));

    const owners = async (role: Role) => [...new Set((await list(role, '/infrefs')).map((i) => i.owner))].sort();
    expect(await owners('operator')).toEqual(['sys-a', 'sys-b']);
    expect(await owners('vendor-admin')).toEqual(['sys-a']);
    expect(await owners('authority-admin')).toEqual([]);

    // Notices: each person sees the ones addressed to them, never another's.
    const { rows: people } = await portal.pool.query<{ id: number; email: string; role: Role }>('SELECT id, email, role FROM users');
    for (const p of people) {
      await portal.pool.query(
        `INSERT INTO notices (event, event_key, user_id, email, language, subject, body, link) VALUES ('agreement.approved', $1, $2, $3, 'da', $4, 'tekst', '/agreements')`,
        [`matrix-${p.id}`, p.id, p.email, `til ${p.role}`],
      );
    }
    // The person's invitation shows without its text and link (the one-time link is not shown again);
    // the other with the link its mail carries, the portal's public address joined to its path.
    for (const role of ['operator', 'vendor-user', 'authority-admin'] as const) {
      const seen = (await list(role, '/notices')).map((n) => [n.subject, n.text ?? null, n.link ?? null]);
      expect(seen.sort()).toEqual([
        ['Invitation til Fælleskommunal Filudveksling', null, null],
        [`til ${role}`, 'tekst', `${portal.config.portalPublicUrl}/agreements`],
      ]);
    }

    const transfers = async (role: Role) => new Set((await list(role, '/transfers?limit=1000')).map((t) => t.id));
    const [op, vendor, auth] = [await transfers('operator'), await transfers('vendor-user'), await transfers('authority-user')];
    expect([own, received, foreign, toAarhus].map((id) => [op.has(id), vendor.has(id), auth.has(id)])).toEqual([
      [true, true, true],
      [true, true, false],
      [true, false, false],
      [true, false, true],
    ]);
  });
});
