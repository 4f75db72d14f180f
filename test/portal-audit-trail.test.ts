/**
 * SPEC §11: every change made in the portal is audited with the person's e-mail as `by`, exactly as
 * the CLI's `--by`. Each page form that changes something, once, as its role would use it, and the
 * audit rows it wrote (the API's own changes: portal-api-areas, portal-api).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type TestSystem } from './helpers/factories.js';
import { addPerson, startPortalWithInfRef, type PortalClient, type TestPortal, type TestPerson } from './helpers/portal.js';

let portal: TestPortal;
let owner: TestSystem;
let infref: string;
let vendor: TestPerson;
let authority: TestPerson;
let operator: TestPerson;

beforeAll(async () => {
  ({ portal, owner, infref } = await startPortalWithInfRef({ username: 'fag-a', vendor: 'Leverandør A/S' }));
  const pool = portal.pool;
  const vendorId = owner.vendorId;
  const aarhusId = (await pool.query("SELECT id FROM authorities WHERE kommunekode = '0751'")).rows[0].id;
  vendor = await addPerson(pool, { email: 'admin@leverandor.dk', role: 'vendor-admin', vendorId });
  authority = await addPerson(pool, { email: 'dpo@aarhus.dk', role: 'authority-admin', authorityId: aarhusId });
  operator = await addPerson(pool, { email: 'drift@kombit.dk', role: 'operator' });
}, 60_000);
afterAll(async () => portal?.close());

/** A multipart form as a browser sends one with a file, with the CSRF token of the page it is on. */
async function upload(c: PortalClient, path: string, from: string, fields: Record<string, string>, file: { field: string; name: string; data: string }): Promise<Response> {
  await c.get(from);
  const form = new FormData();
  form.append('_csrf', c.csrf);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(file.field, new Blob([file.data]), file.name);
  return c.fetch(path, { method: 'POST', body: form });
}

async function agreementId(system: string, kommunekode: string): Promise<number> {
  const { rows } = await portal.pool.query(
    'SELECT g.id FROM agreements g JOIN systems s ON s.id = g.system_id JOIN authorities a ON a.id = g.authority_id WHERE s.username = $1 AND a.kommunekode = $2',
    [system, kommunekode],
  );
  return rows[0].id;
}

describe('the audit trail of the pages', () => {
  it("records every change made on a page with the person's e-mail, as the CLI's --by", async () => {
    const [asVendor, asAuthority, asOperator] = await Promise.all([portal.login(vendor), portal.login(authority), portal.login(operator)]);
    const got: Array<[string, number, string[]]> = [];
    const want: Array<[string, number, string[]]> = [];
    /** Does one change, and notes its answer and the audit rows it wrote (each action and actor once). */
    const step = async (name: string, status: number, actions: string[], by: TestPerson, act: () => Promise<Response>) => {
      const { rows: last } = await portal.pool.query('SELECT coalesce(max(id), 0) AS id FROM audit_log');
      const res = await act();
      await res.arrayBuffer();
      const { rows } = await portal.pool.query<{ row: string }>("SELECT DISTINCT action || ' by ' || actor AS row, min(id) AS first FROM audit_log WHERE id > $1 GROUP BY 1 ORDER BY first", [last[0].id]);
      got.push([name, res.status, rows.map((r) => r.row)]);
      want.push([name, status, actions.map((a) => `${a} by ${by.email}`)]);
    };

    // It-systemer: a system registered with an uploaded key file, a key added and removed, disabled and enabled.
    const second = generateKeyPair();
    await step('register a system', 303, ['system.register', 'system.key.add'], vendor, () =>
      upload(asVendor, '/systems/new', '/systems/new', { username: 'fag-ny', uuid: '', inbox: '', metadata: '', sshPublicKey: '' }, { field: 'keyFile', name: 'fag-ny.pub', data: generateKeyPair().publicKey }),
    );
    await step('add a key', 303, ['system.key.add'], vendor, () => asVendor.submit('/systems/fag-ny/keys', { sshPublicKey: second.publicKey }, { from: '/systems/fag-ny' }));
    await step('remove a key', 303, ['system.key.remove'], vendor, () => asVendor.submit('/systems/fag-ny/keys/remove', { fingerprint: second.key.fingerprint }, { from: '/systems/fag-ny' }));
    await step('disable a system', 303, ['system.disable'], vendor, () => asVendor.submit('/systems/fag-ny/disable', {}, { from: '/systems/fag-ny' }));
    await step('enable a system', 303, ['system.enable'], vendor, () => asVendor.submit('/systems/fag-ny/enable', {}, { from: '/systems/fag-ny' }));

    // Serviceaftaler: all municipalities asked at once, one request withdrawn; Aarhus approves and terminates its own.
    await step('request all municipalities', 303, ['agreement.request'], vendor, () => asVendor.submit('/agreements/new', { system: 'fag-ny', service: 'fetch', all: 'yes' }));
    const kbh = await agreementId('fag-ny', '0101');
    const aarhus = await agreementId('fag-ny', '0751');
    await step('withdraw a request', 303, ['agreement.withdraw'], vendor, () => asVendor.submit(`/agreements/${kbh}/withdraw`, {}, { from: `/agreements/${kbh}` }));
    await step('approve', 303, ['agreement.approve'], authority, () => asAuthority.submit(`/agreements/${aarhus}/approve`, { reason: '' }, { from: `/agreements/${aarhus}` }));
    await step('terminate', 303, ['agreement.terminate'], authority, () => asAuthority.submit(`/agreements/${aarhus}/terminate`, { reason: 'Kontrakten udløber', effective: '' }, { from: `/agreements/${aarhus}` }));

    // InfRefs: the vendor sends the declaration; the operator approves it.
    await step('upload a declaration', 303, ['declaration.receive'], vendor, () => upload(asVendor, `/infrefs/${infref}/declaration`, `/infrefs/${infref}`, {}, { field: 'document', name: 'erklæring.pdf', data: '%PDF-1.7' }));
    await step('approve a declaration', 303, ['declaration.approve'], operator, () => asOperator.submit(`/infrefs/${infref}/declaration/approve`, { reason: '' }, { from: `/infrefs/${infref}` }));

    // The operator's own pages.
    await step('add a vendor', 303, ['vendor.add'], operator, () => asOperator.submit('/vendors', { name: 'Ny Leverandør ApS', cvr: '' }));
    await step('add an authority', 303, ['authority.add'], operator, () => asOperator.submit('/authorities', { cvr: '10000009', name: 'Region Prøve', folder: '' }));
    await step('add a route', 303, ['route.add'], operator, () =>
      asOperator.submit('/routes', { sender: owner.username, infref, recipient: 'fag-ny', authority: '0751', validFrom: '', validTo: '' }),
    );
    const route = (await portal.pool.query('SELECT max(id) AS id FROM routes')).rows[0].id;
    await step('remove a route', 303, ['route.remove'], operator, () => asOperator.submit(`/routes/${route}/remove`, {}, { from: '/routes' }));
    await step('set a price', 303, ['price.set'], operator, () => asOperator.submit('/prices', { model: 'buffet', from: '2027-01-01', perInhabitant: '12', service: '', perFile: '', perGib: '' }));
    const failed = randomUUID();
    await portal.pool.query(
      `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, authority_id, status, error_code, error_text, decided_at)
       VALUES ($1, $2, 'x.trigger', 'x.csv', (SELECT id FROM authorities WHERE kommunekode = '0751'), 'failed', 'DELIVERY_FAILED', 'disk full', now())`,
      [failed, owner.id],
    );
    await step('retry a transfer', 303, ['transfer.retry'], operator, () => asOperator.submit(`/transfers/${failed}/retry`, {}, { from: `/transfers/${failed}` }));

    // Brugere: the vendor's admin invites a colleague, sends a new link, disables and enables them.
    await step('invite', 200, ['user.invite'], vendor, () => asVendor.submit('/users/invite', { email: 'kollega@leverandor.dk', name: 'Kollega', role: 'vendor-user' }, { from: '/users' }));
    const colleague = (await portal.pool.query("SELECT id FROM users WHERE email = 'kollega@leverandor.dk'")).rows[0].id;
    await step('new link', 200, ['user.reinvite'], vendor, () => asVendor.submit(`/users/${colleague}/reset`, {}, { from: '/users' }));
    await step('disable a person', 303, ['user.disable'], vendor, () => asVendor.submit(`/users/${colleague}/disable`, {}, { from: '/users' }));
    await step('enable a person', 303, ['user.enable'], vendor, () => asVendor.submit(`/users/${colleague}/enable`, {}, { from: '/users' }));

    // The language switch is kept per person, so it is a change too.
    await step('choose English', 303, ['user.language'], authority, () => asAuthority.submit('/language', { language: 'en', back: '/' }, { from: '/' }));

    // Ending a session is a change of state too.
    await step('log out', 303, ['user.logout'], authority, () => asAuthority.submit('/logout', {}, { from: '/' }));

    expect(got).toEqual(want);
  }, 60_000);
});
