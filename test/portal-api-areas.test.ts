import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { findAuthority } from '../src/authority/find-authority.js';
import { createVendor, generateKeyPair, issueInfRef, registerSystem } from './helpers/factories.js';
import { addPerson, apiToken, startPortal, type TestPortal } from './helpers/portal.js';

/** SPEC §11's JSON API over the domain functions the CLI calls: shapes, problems, paging, uploads. */
let portal: TestPortal;
let vendorId: number;
let aarhusId: number;
let tokens: Record<'operator' | 'vendor' | 'aarhus' | 'kbh', string>;

async function call(who: keyof typeof tokens, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${portal.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text, headers: res.headers };
}

beforeAll(async () => {
  portal = await startPortal();
  vendorId = (await createVendor(portal.pool, 'Fagsystem A/S')).id;
  aarhusId = (await findAuthority(portal.pool, { kind: 'kommunekode', kommunekode: '0751' }))!.id;
  const kbhId = (await findAuthority(portal.pool, { kind: 'kommunekode', kommunekode: '0101' }))!.id;
  const people = {
    operator: await addPerson(portal.pool, { role: 'operator' }),
    vendor: await addPerson(portal.pool, { role: 'vendor-admin', vendorId }),
    aarhus: await addPerson(portal.pool, { role: 'authority-admin', authorityId: aarhusId }),
    kbh: await addPerson(portal.pool, { role: 'authority-admin', authorityId: kbhId }),
  };
  tokens = Object.fromEntries(await Promise.all(Object.entries(people).map(async ([k, p]) => [k, await apiToken(portal.pool, p.email)]))) as typeof tokens;
}, 60_000);
afterAll(async () => portal?.close());

describe('systems and agreements through the API', () => {
  it('registers a system with a pasted key, requests two authorities, and each decides its own', async () => {
    const pair = generateKeyPair();
    const made = await call('vendor', 'POST', '/systems', { username: 'fag-api', sshPublicKey: pair.publicKey });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ username: 'fag-api', vendor: 'Fagsystem A/S', enabled: true, inbox: 'per-authority', metadata: 'file-metadata', keys: [{ fingerprint: pair.key.fingerprint, type: 'ssh-ed25519' }] });

    const asked = await call('vendor', 'POST', '/agreements', { system: 'fag-api', service: 'send', authorities: ['0751', '64942212'] });
    expect(asked.status).toBe(201);
    expect(asked.body.map((a: any) => [a.authority, a.status, a.vendor])).toEqual([
      [{ cvr: '55133018', kommunekode: '0751', name: 'Aarhus' }, 'requested', 'Fagsystem A/S'],
      [{ cvr: '64942212', kommunekode: '0101', name: 'København' }, 'requested', 'Fagsystem A/S'],
    ]);
    const [aarhus, kbh] = asked.body;
    // Each authority sees only the agreement naming it; deciding the other's is "not found".
    expect((await call('aarhus', 'GET', '/agreements')).body.map((a: any) => a.id)).toEqual([aarhus.id]);
    expect((await call('aarhus', 'POST', `/agreements/${kbh.id}/approve`, {})).status).toBe(404);
    const approved = await call('aarhus', 'POST', `/agreements/${aarhus.id}/approve`, {});
    expect(approved.body).toMatchObject({ id: aarhus.id, status: 'approved', decidedBy: expect.stringMatching(/@example\.dk$/), decidedAt: expect.any(String) });
    const rejected = await call('kbh', 'POST', `/agreements/${kbh.id}/reject`, { reason: 'Ingen databehandleraftale' });
    expect(rejected.body).toMatchObject({ status: 'rejected', reason: 'Ingen databehandleraftale' });

    const mine = await call('vendor', 'GET', '/agreements?system=fag-api');
    expect(mine.body.map((a: any) => a.status)).toEqual(['approved', 'rejected']);
    const effective = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const ended = await call('aarhus', 'POST', `/agreements/${aarhus.id}/terminate`, { reason: 'Kontrakten udløber', effective });
    expect(ended.body).toMatchObject({ status: 'terminated', reason: 'Kontrakten udløber', effective });
    expect((await call('vendor', 'GET', '/agreements?status=terminated')).body.map((a: any) => a.id)).toEqual([aarhus.id]);

    // The wrong state is a conflict naming the state and what to do.
    const again = await call('kbh', 'POST', `/agreements/${kbh.id}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(again.body.detail).toBe(`Agreement ${kbh.id} is «Rejected»; «Approve» is only possible while it is «Pending». A new request can be made.`);
    // The audit trail names the people.
    const trail = await portal.pool.query("SELECT action, actor FROM audit_log WHERE entity = 'agreement' AND entity_id = $1 ORDER BY id", [String(aarhus.id)]);
    expect(trail.rows.map((r) => r.action)).toEqual(['agreement.request', 'agreement.approve', 'agreement.terminate']);
    expect(trail.rows.every((r) => r.actor.endsWith('@example.dk'))).toBe(true);
  });

  it('asks all municipalities at once and withdraws a pending request', async () => {
    await registerSystem(portal.pool, { username: 'fag-all', vendor: 'Fagsystem A/S', dataDir: portal.config.dataDir });
    const all = await call('vendor', 'POST', '/agreements', { system: 'fag-all', service: 'fetch', authorities: 'all-municipalities' });
    expect(all.status).toBe(201);
    expect(all.body).toHaveLength(98);
    const withdrawn = await call('vendor', 'POST', `/agreements/${all.body[0].id}/withdraw`);
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn' });
    const page = await call('vendor', 'GET', `/agreements?system=fag-all&limit=10&after=${all.body[0].id}`);
    expect(page.body.map((a: any) => a.id)).toEqual(all.body.slice(1, 11).map((a: any) => a.id));
  });

  it('answers bad input with problem+json naming each field', async () => {
    const bad = await call('vendor', 'POST', '/agreements', { system: 'fag-api', service: 'upload', authorities: [], extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(expect.arrayContaining(['extra', 'service']));
    const unknown = await call('vendor', 'POST', '/agreements', { system: 'fag-api', service: 'fetch', authorities: ['0999'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ pointer: '#/authorities', field: 'authorities', detail: expect.stringMatching(/Unknown kommunekode 0999/) }]);
    const key = await call('vendor', 'POST', '/systems', { username: 'fag-x', sshPublicKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----' });
    expect(key.status).toBe(400);
    expect(key.body.errors[0]).toMatchObject({ field: 'sshPublicKey', detail: expect.stringMatching(/^That is a PRIVATE key, and it was not stored\. Paste the public key/) });
    const noReason = await call('aarhus', 'POST', '/agreements/1/reject', {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toEqual([{ pointer: '#/reason', field: 'reason', detail: 'is required' }]);
    const past = await call('aarhus', 'POST', '/agreements/1/terminate', { reason: 'x', effective: '2020-01-01' });
    expect(past.status).toBe(400);
  });

  it('names the field of a value the domain refuses, as it names those the schemas refuse', async () => {
    // SPEC §11: a 400 is bad input, `errors` naming each field — also when the value passes the
    // schema and the domain function refuses it (a day that does not exist, a user name it cannot hold).
    const named = async (who: keyof typeof tokens, method: string, path: string, body?: unknown) => {
      const r = await call(who, method, path, body);
      return [r.status, r.body.code, (r.body.errors ?? []).map((e: any) => [e.pointer, e.field, e.detail === r.body.detail || r.body.errors.length > 1])];
    };
    await registerSystem(portal.pool, { username: 'fag-fields', vendor: 'Fagsystem A/S', dataDir: portal.config.dataDir });
    const [asked] = (await call('vendor', 'POST', '/agreements', { system: 'fag-fields', service: 'send', authorities: ['0751'] })).body;
    expect((await call('aarhus', 'POST', `/agreements/${asked.id}/approve`, {})).status).toBe(200);

    expect(await named('aarhus', 'POST', `/agreements/${asked.id}/terminate`, { reason: 'Slut', effective: '2020-01-01' })).toEqual([400, 'agreement-effective-past', [['#/effective', 'effective', true]]]);
    expect(await named('aarhus', 'POST', `/agreements/${asked.id}/terminate`, { reason: 'Slut', effective: '2030-02-30' })).toEqual([400, 'day-invalid', [['#/effective', 'effective', true]]]);
    expect(await named('vendor', 'POST', '/systems', { username: 'fag med mellemrum', sshPublicKey: generateKeyPair().publicKey })).toEqual([400, 'system-username-invalid', [['#/username', 'username', true]]]);
    expect(await named('vendor', 'GET', '/usage?from=2026-02-30&to=2026-04-31')).toEqual([400, 'day-invalid', [['#/from', 'from', true], ['#/to', 'to', true]]]);

    const { name } = await issueInfRef(portal.pool, 'fag-fields');
    const empty = new FormData();
    empty.append('document', new Blob([]), 'tom.pdf');
    const res = await fetch(`${portal.baseUrl}/api/v1/infrefs/${name}/declaration`, { method: 'POST', headers: { authorization: `Bearer ${tokens.vendor}` }, body: empty });
    const problem = await res.json();
    expect([res.status, problem.code, problem.errors]).toEqual([400, 'declaration-document-empty', [{ pointer: '#/document', field: 'document', detail: problem.detail }]]);
    // Refused, nothing changed.
    expect((await call('vendor', 'GET', `/agreements?system=fag-fields`)).body.map((a: any) => a.status)).toEqual(['approved']);
  });

  it('pages systems and InfRefs with ?limit=&after= (the last user name, the last InfRef seen)', async () => {
    await issueInfRef(portal.pool, 'fag-api');
    await issueInfRef(portal.pool, 'fag-api');
    const walk = async (path: string, key: string) => {
      const seen: string[] = [];
      for (let after = ''; seen.length < 50; ) {
        const page = await call('operator', 'GET', `${path}?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.length).toBeLessThanOrEqual(2);
        if (page.body.length === 0) break;
        seen.push(...page.body.map((r: any) => r[key]));
        after = seen.at(-1)!;
      }
      return seen;
    };
    const systems = (await call('operator', 'GET', '/systems?limit=1000')).body.map((s: any) => s.username);
    expect(systems.length).toBeGreaterThan(2);
    expect(await walk('/systems', 'username')).toEqual(systems);
    const infrefs = (await call('operator', 'GET', '/infrefs?limit=1000')).body.map((i: any) => i.name);
    expect(infrefs.length).toBeGreaterThan(2);
    expect(await walk('/infrefs', 'name')).toEqual(infrefs);
    // Within the caller's scope, as without paging.
    expect((await call('vendor', 'GET', '/systems?limit=1')).body.map((s: any) => s.username)).toEqual([systems.filter((u: string) => u.startsWith('fag-'))[0]]);
    const bad = await call('operator', 'GET', '/infrefs?after=FagsystemdefineredeDataRefGDPR0_1&limit=0');
    expect([bad.status, bad.body.errors.map((e: any) => e.field).sort()]).toEqual([400, ['after', 'limit']]);
  });

  it('adds and removes keys by fingerprint', async () => {
    const second = generateKeyPair();
    const added = await call('vendor', 'POST', '/systems/fag-api/keys', { sshPublicKey: second.publicKey });
    expect(added.status).toBe(201);
    expect(added.body.keys).toHaveLength(2);
    const removed = await call('vendor', 'DELETE', `/systems/fag-api/keys/${encodeURIComponent(second.key.fingerprint)}`);
    expect(removed.status).toBe(200);
    expect(removed.body.keys.map((k: any) => k.fingerprint)).not.toContain(second.key.fingerprint);
    expect((await call('vendor', 'DELETE', `/systems/fag-api/keys/${encodeURIComponent(second.key.fingerprint)}`)).status).toBe(404);
  });
});

describe('declaration documents through the API', () => {
  it('uploads the signed declaration (multipart), which only an operator reads back', async () => {
    const { name } = await issueInfRef(portal.pool, 'fag-api');
    const data = Buffer.from('%PDF-1.7 erklæring');
    const form = new FormData();
    form.append('document', new Blob([data], { type: 'application/pdf' }), 'erklæring.pdf');
    const res = await fetch(`${portal.baseUrl}/api/v1/infrefs/${name}/declaration`, { method: 'POST', headers: { authorization: `Bearer ${tokens.vendor}` }, body: form });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name, declaration: { status: 'pending', document: { name: 'erklæring.pdf', contentType: 'application/pdf', size: data.length, sha256: createHash('sha256').update(data).digest('hex') } } });
    const listed = (await call('vendor', 'GET', '/infrefs')).body.find((i: any) => i.name === name);
    expect(listed.declaration.status).toBe('pending');

    expect((await call('vendor', 'GET', `/infrefs/${name}/declaration/document`)).status).toBe(403);
    const doc = await fetch(`${portal.baseUrl}/api/v1/infrefs/${name}/declaration/document`, { headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(doc.status).toBe(200);
    expect(doc.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(Buffer.from(await doc.arrayBuffer())).toEqual(data);
  });

  it('refuses a document over 20 MiB with 413', async () => {
    const { name } = await issueInfRef(portal.pool, 'fag-api');
    const form = new FormData();
    form.append('document', new Blob([Buffer.alloc(20 * 1024 * 1024 + 1)]), 'big.pdf');
    const res = await fetch(`${portal.baseUrl}/api/v1/infrefs/${name}/declaration`, { method: 'POST', headers: { authorization: `Bearer ${tokens.vendor}` }, body: form });
    expect(res.status).toBe(413);
    expect((await portal.pool.query('SELECT count(*)::int AS n FROM declaration_documents WHERE name = $1', ['big.pdf'])).rows[0].n).toBe(0);
  });
});

describe('transfers through the API', () => {
  it('pages newest first with a Link to the next page', async () => {
    const sys = (await portal.pool.query("SELECT id FROM systems WHERE username = 'fag-api'")).rows[0].id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = randomUUID();
      ids.push(id);
      await portal.pool.query(
        `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, authority_id, status, received_at)
         VALUES ($1, $2, $3, $4, 10, $5, 'delivered', '2026-11-20T10:00:00Z'::timestamptz + $6 * interval '1 second')`,
        [id, sys, `f${i}.trigger`, `f${i}.csv`, aarhusId, i],
      );
    }
    const first = await call('vendor', 'GET', '/transfers?limit=2');
    expect(first.body.map((t: any) => t.id)).toEqual([ids[4], ids[3]]);
    const next = /<\/api\/v1([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')![1]!;
    const second = await call('vendor', 'GET', next);
    expect(second.body.map((t: any) => t.id)).toEqual([ids[2], ids[1]]);
    const detail = await call('aarhus', 'GET', `/transfers/${ids[0]}`);
    expect(detail.body).toMatchObject({ id: ids[0], status: 'delivered', sender: 'fag-api', fileName: 'f0.csv', steps: [], deliveries: [] });
    expect((await call('kbh', 'GET', `/transfers/${ids[0]}`)).status).toBe(404);
    expect((await call('vendor', 'GET', '/transfers?after=bogus')).status).toBe(400);
  });
});

describe('usage through the API', () => {
  it('counts per month or quarter, grouped by vendor, system, authority or service, within scope', async () => {
    const sys = (await portal.pool.query("SELECT id FROM systems WHERE username = 'fag-api'")).rows[0].id;
    const other = await registerSystem(portal.pool, { username: 'other-rcv', vendor: 'Andet A/S', dataDir: portal.config.dataDir });
    // A day's usage as the delivery statement's rollup records it: the day, and the same figures added to its month.
    const day = async (d: string, authorityId: number, files: number, bytes: number) =>
      portal.pool.query(
        `WITH days AS (
           INSERT INTO usage_daily (day, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes)
           VALUES ($1, $2, 1, $3, $4, $5, $5, $6, $6))
         INSERT INTO usage_monthly AS m (month, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes)
         VALUES (date_trunc('month', $1::date)::date, $2, 1, $3, $4, $5, $5, $6, $6)
         ON CONFLICT (month, authority_id, infref_id, sender_system_id, recipient_system_id) DO UPDATE
            SET transfers = m.transfers + excluded.transfers, deliveries = m.deliveries + excluded.deliveries,
                bytes_sent = m.bytes_sent + excluded.bytes_sent, bytes = m.bytes + excluded.bytes`,
        [d, authorityId, sys, other.id, files, bytes],
      );
    const kbhId = (await findAuthority(portal.pool, { kind: 'kommunekode', kommunekode: '0101' }))!.id;
    await day('2026-01-31', aarhusId, 2, 200);
    await day('2026-02-01', aarhusId, 3, 300);
    await day('2026-04-02', kbhId, 5, 500);

    const byMonth = await call('operator', 'GET', '/usage?from=2026-01-01&to=2026-12-31&group=service');
    expect(byMonth.body).toEqual([
      { period: '2026-01', service: 'fetch', files: 2, bytes: 200 },
      { period: '2026-01', service: 'send', files: 2, bytes: 200 },
      { period: '2026-02', service: 'fetch', files: 3, bytes: 300 },
      { period: '2026-02', service: 'send', files: 3, bytes: 300 },
      { period: '2026-04', service: 'fetch', files: 5, bytes: 500 },
      { period: '2026-04', service: 'send', files: 5, bytes: 500 },
    ]);
    // The vendor sees its own system's sending only; the receiving system is another vendor's.
    const vendor = await call('vendor', 'GET', '/usage?from=2026-01-15&to=2026-06-30&by=quarter&group=system');
    expect(vendor.body).toEqual([
      { period: '2026Q1', vendor: 'Fagsystem A/S', system: 'fag-api', files: 5, bytes: 500 },
      { period: '2026Q2', vendor: 'Fagsystem A/S', system: 'fag-api', files: 5, bytes: 500 },
    ]);
    // Summed by service or authority, the vendor still counts only its own system's half (send), never the other vendor's fetch.
    const vendorServices = await call('vendor', 'GET', '/usage?from=2026-01-01&to=2026-12-31&by=quarter&group=service');
    expect(vendorServices.body).toEqual([
      { period: '2026Q1', service: 'send', files: 5, bytes: 500 },
      { period: '2026Q2', service: 'send', files: 5, bytes: 500 },
    ]);
    const vendorAuthorities = await call('vendor', 'GET', '/usage?from=2026-01-01&to=2026-12-31&group=authority');
    expect(vendorAuthorities.body).toEqual([
      { period: '2026-01', authority: { cvr: '55133018', kommunekode: '0751', name: 'Aarhus' }, files: 2, bytes: 200 },
      { period: '2026-02', authority: { cvr: '55133018', kommunekode: '0751', name: 'Aarhus' }, files: 3, bytes: 300 },
      { period: '2026-04', authority: { cvr: '64942212', kommunekode: '0101', name: 'København' }, files: 5, bytes: 500 },
    ]);
    // The operator's by authority: each delivery once for its sender and once for its recipient.
    const everyAuthority = await call('operator', 'GET', '/usage?from=2026-01-01&to=2026-12-31&by=quarter&group=authority');
    expect(everyAuthority.body.map((r: any) => [r.period, r.authority.name, r.files, r.bytes])).toEqual([
      ['2026Q1', 'Aarhus', 10, 1000],
      ['2026Q2', 'København', 10, 1000],
    ]);
    // An authority sees its own data's usage.
    const aarhus = await call('aarhus', 'GET', '/usage?from=2026-01-01&to=2026-12-31&by=quarter&group=authority');
    expect(aarhus.body).toEqual([{ period: '2026Q1', authority: { cvr: '55133018', kommunekode: '0751', name: 'Aarhus' }, files: 10, bytes: 1000 }]);
    const vendors = await call('kbh', 'GET', '/usage?from=2026-01-01&to=2026-12-31&by=quarter&group=vendor');
    expect(vendors.body).toEqual([
      { period: '2026Q2', vendor: 'Andet A/S', files: 5, bytes: 500 },
      { period: '2026Q2', vendor: 'Fagsystem A/S', files: 5, bytes: 500 },
    ]);
    const bad = await call('vendor', 'GET', '/usage?from=2026-03-01&to=2026-02-01&group=month');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field)).toEqual(['group']);
    const backwards = await call('vendor', 'GET', '/usage?from=2026-03-01&to=2026-02-01');
    expect(backwards.body.errors).toEqual([{ pointer: '#/to', field: 'to', detail: 'is before from (2026-03-01)' }]);
  });
});

describe('OpenAPI', () => {
  it('lists every route of this area', async () => {
    const doc = await (await fetch(`${portal.baseUrl}/api/v1/openapi.json`)).json();
    const paths = Object.keys(doc.paths);
    for (const p of ['/systems', '/systems/{username}/keys', '/systems/{username}/keys/{fingerprint}', '/agreements', '/agreements/{id}/approve', '/agreements/{id}/reject', '/agreements/{id}/terminate', '/agreements/{id}/withdraw', '/infrefs', '/infrefs/{infref}/declaration', '/infrefs/{infref}/declaration/document', '/transfers', '/transfers/{id}', '/usage']) {
      expect(paths.some((x) => x.endsWith(p))).toBe(true);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Agreement', 'System', 'InfRef', 'Declaration', 'Transfer', 'TransferDetail', 'UsageRow']));
  });
});
