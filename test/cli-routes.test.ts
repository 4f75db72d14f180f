import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasApprovedAgreement } from '../src/agreements/has-approved-agreement.js';
import { findAuthority, findAuthorityByCvr } from '../src/authority/find-authority.js';
import { findRoutes } from '../src/routes/find-routes.js';
import { findSystemByUsername, findSystemByUuid } from '../src/systems/find-system.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { issueInfRef, migrated, newVersion, registerSystem, routedPair, type TestInfRef, type TestSystem } from './helpers/factories.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, env);
let a: TestSystem;
let b: TestSystem;
let c: TestSystem;
let infA: TestInfRef;
let infB: TestInfRef;

beforeAll(async () => {
  db = await createTestDatabase('cliroute');
  dir = mkdtempSync(join(tmpdir(), 'fu-cliroute-'));
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dir };
  await migrated(db.pool);
  a = await registerSystem(db.pool, { username: 'afsender-a', dataDir: dir });
  b = await registerSystem(db.pool, { username: 'modtager-b', dataDir: dir, uuid: 'cfcf2769-9a1f-4d3b-b6d2-ddfb3a2f9dd6' });
  c = await registerSystem(db.pool, { username: 'modtager-c', dataDir: dir, inbox: 'flat' });
  infA = await issueInfRef(db.pool, a.username, { approve: true });
  infB = await issueInfRef(db.pool, b.username);
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('authority', () => {
  it('lists the 98 preloaded municipalities', async () => {
    const [r, human] = await Promise.all([run('authority', 'list', '--json'), run('authority', 'list')]);
    expect(r.json().filter((x: { kommunekode: string | null }) => x.kommunekode)).toHaveLength(98);
    expect(human.stdout).toMatch(/^KOMMUNEKODE\s+CVR\s+NAME\s+FOLDER\s+INHABITANTS$/m);
    expect(human.stdout).toMatch(/^0751\s+55133018\s+Aarhus\s+0751\s+-$/m);
  });

  it('adds an authority (folder defaults to the CVR) and updates it by CVR or kommunekode', async () => {
    const add = await run('authority', 'add', '29190623', '--name', 'Region Midtjylland', '--json', '--by', 'gitte');
    expect(add.code).toBe(0);
    expect(add.json()).toMatchObject({ cvr: '29190623', name: 'Region Midtjylland', folder: '29190623', kommunekode: null });
    // Each of these touches one authority of its own: they run side by side.
    const [folder, upd, muni] = await Promise.all([
      run('authority', 'add', '29190925', '--name', 'Region Nordjylland', '--folder', 'region-nord'),
      run('authority', 'update', '29190623', '--name', 'Region Midt', '--folder', 'region-midt', '--json'),
      run('authority', 'update', '751', '--name', 'Aarhus Kommune'),
    ]);
    expect(folder.stdout).toMatch(/delivered in IN\/region-nord\//);

    expect(upd.json()).toMatchObject({ name: 'Region Midt', folder: 'region-midt', cvr: '29190623' });
    expect(muni.code).toBe(0);
    expect(muni.stdout).toMatch(/Updated 0751 Aarhus Kommune/);
    expect(await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '0751' })).toMatchObject({ name: 'Aarhus Kommune', folder: '0751', cvr: '55133018' });
    expect((await run('authority', 'update', '0751', '--name', 'Aarhus')).code).toBe(0);
    expect(await findAuthorityByCvr(db.pool, '29190623')).toMatchObject({ name: 'Region Midt' });
    expect(await findAuthorityByCvr(db.pool, '11111111')).toBeUndefined();

    const trail = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'authority' ORDER BY id LIMIT 1");
    expect(trail.rows[0]).toEqual({ actor: 'gitte', action: 'authority.add' });
  });

  it('refuses bad authority input, naming the value and what to do', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['authority', 'add', '12345678', '--name', 'X'], 2, /'12345678' fails the CVR modulus-11 check/],
      [['authority', 'add', '1234', '--name', 'X'], 2, /'1234' is not 8 digits/],
      [['authority', 'add', '55133018', '--name', 'X'], 1, /CVR 55133018 is already known as 0751 Aarhus/],
      [['authority', 'add', '30000013', '--name', 'X', '--folder', '0751'], 1, /folder '0751' is already used by 0751 Aarhus/],
      [['authority', 'add', '30000013', '--name', 'X', '--folder', '../x'], 2, /cannot be a folder name/],
      [['authority', 'add', '30000013'], 2, /--name/],
      [['authority', 'update', '999', '--name', 'X'], 1, /Unknown kommunekode 0999/],
      [['authority', 'update', '30000013', '--name', 'X'], 1, /Unknown authority with CVR 30000013.*authority add 30000013/],
      [['authority', 'update', '12345678', '--name', 'X'], 2, /fails the modulus-11 check/],
      [['authority', 'update', 'aarhus', '--name', 'X'], 2, /neither a kommunekode .* nor a CVR number/],
      [['authority', 'update', '0751', '--folder', 'aarhus'], 1, /is a municipality: its folder is its kommunekode 0751/],
      [['authority', 'update', '0751', '--cvr', '29190623'], 1, /CVR 29190623 already belongs to Region Midt/],
      [['authority', 'update', '0751'], 2, /Nothing to change/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(message) });
    });
  });
});

describe('route', () => {
  it('adds a route by kommunekode 751 or 0751 or CVR, lists it, and findRoutes sees it on valid days only', async () => {
    // Two routes to different recipients: added side by side.
    const [r, cvr] = await Promise.all([
      run('route', 'add', '--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-b', '--authority', '751', '--valid-from', '2026-01-01', '--valid-to', '2026-12-31', '--by', 'hans'),
      run('route', 'add', '--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-c', '--authority', '55133018', '--json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Added route \d+: afsender-a → modtager-b for InfRef \d+ \(every version\) and 0751 Aarhus, valid 2026-01-01 – 2026-12-31\./);
    expect(cvr.json()).toMatchObject({ infrefNumber: infA.number, validFrom: null, validTo: null });

    const aarhus = (await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '751' }))!;
    const q = { senderSystemId: a.id, infrefNumber: infA.number, authorityId: aarhus.id };
    expect((await findRoutes(db.pool, { ...q, onDate: '2026-01-01' })).map((x) => x.recipientSystemId).sort()).toEqual([b.id, c.id].sort());
    expect((await findRoutes(db.pool, { ...q, onDate: '2026-12-31', recipientSystemId: b.id })).map((x) => x.recipientSystemId)).toEqual([b.id]);
    expect(await findRoutes(db.pool, { ...q, onDate: '2027-01-01', recipientSystemId: b.id })).toEqual([]);
    expect(await findRoutes(db.pool, { ...q, onDate: '2025-12-31', recipientSystemId: b.id })).toEqual([]);
    expect(await findRoutes(db.pool, { ...q, authorityId: aarhus.id + 1, onDate: '2026-06-01' })).toEqual([]);
    const [route] = await findRoutes(db.pool, { ...q, onDate: '2026-06-01', recipientSystemId: b.id });
    expect(route).toEqual({ id: expect.any(Number), senderSystemId: a.id, infrefNumber: infA.number, recipientSystemId: b.id, authorityId: aarhus.id, validFrom: '2026-01-01', validTo: '2026-12-31' });

    const [list, byRecipient] = await Promise.all([run('route', 'list', '--sender', 'afsender-a', '--authority', '0751'), run('route', 'list', '--recipient', 'modtager-c', '--json')]);
    expect(list.stdout).toMatch(/^ID\s+SENDER\s+INFREF\s+RECIPIENT\s+AUTHORITY\s+FROM\s+TO$/m);
    expect(list.stdout).toMatch(/afsender-a\s+\d+\s+modtager-b\s+0751 Aarhus\s+2026-01-01\s+2026-12-31/);
    expect(byRecipient.json()).toHaveLength(1);
    const hansRoute = /Added route (\d+):/.exec(r.stdout)![1];
    const trail = await db.pool.query("SELECT actor FROM audit_log WHERE entity = 'route' AND action = 'route.add' AND entity_id = $1", [hansRoute]);
    expect(trail.rows).toEqual([{ actor: 'hans' }]);
  });

  it('carries a route over to a new version of the InfRef (routes are per number)', async () => {
    const v2 = await newVersion(db.pool, infA.name, { approve: true });
    expect(v2.number).toBe(infA.number);
    const aarhus = (await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '0751' }))!;
    expect(await findRoutes(db.pool, { senderSystemId: a.id, infrefNumber: v2.number, authorityId: aarhus.id, onDate: '2026-06-01' })).toHaveLength(2);
    // route list --json names the InfRef as people type it, every version of its number.
    const listed = (await run('route', 'list', '--sender', 'afsender-a', '--json')).json();
    expect(listed.map((x: { infrefs: string[] }) => x.infrefs)).toEqual([[infA.name, v2.name], [infA.name, v2.name]]);
    // A route can also be added naming the superseded version: it is the number that counts.
    const r = await run('route', 'add', '--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-b', '--authority', '0101');
    expect(r.code).toBe(0);
  });

  it('removes a route softly: gone from lists and findRoutes, row kept with removed_at', async () => {
    const [route] = (await run('route', 'list', '--recipient', 'modtager-c', '--json')).json();
    const r = await run('route', 'remove', String(route.id), '--by', 'ida');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Removed route ${route.id}.\n`);
    expect((await run('route', 'list', '--recipient', 'modtager-c', '--json')).json()).toEqual([]);
    const row = await db.pool.query('SELECT removed_by, removed_at IS NOT NULL AS removed FROM routes WHERE id = $1', [route.id]);
    expect(row.rows[0]).toEqual({ removed_by: 'ida', removed: true });
    const again = await run('route', 'remove', String(route.id));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already removed/);
  });

  it('refuses bad routes with a message that says what to do', async () => {
    const base = ['--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-c', '--authority', '0751'];
    const cases: Array<[string[], number, RegExp]> = [
      [['route', 'add', '--sender', 'modtager-b', '--infref', infA.name, '--recipient', 'modtager-c', '--authority', '0751'], 1, /belongs to 'afsender-a', not to the sender 'modtager-b'.*infref issue --owner modtager-b/],
      [['route', 'add', ...base.slice(0, 4), '--recipient', 'ghost', '--authority', '0751'], 1, /Unknown recipient system 'ghost'/],
      [['route', 'add', '--sender', 'ghost', ...base.slice(2)], 1, /Unknown sender system 'ghost'/],
      [['route', 'add', ...base.slice(0, 2), '--infref', 'FagsystemdefineredeDataRefGDPR999_1', ...base.slice(4)], 1, /Unknown InfRef FagsystemdefineredeDataRefGDPR999_1/],
      [['route', 'add', ...base.slice(0, 2), '--infref', 'GDPR1', ...base.slice(4)], 2, /'GDPR1' is not an InfRef/],
      [['route', 'add', ...base.slice(0, 6), '--authority', '0999'], 1, /Unknown kommunekode 0999/],
      [['route', 'add', ...base.slice(0, 6), '--authority', '30000013'], 1, /Unknown authority with CVR 30000013/],
      [['route', 'add', ...base.slice(0, 6), '--authority', '12345678'], 2, /fails the modulus-11 check/],
      [['route', 'add', ...base, '--valid-from', '2026-06-01', '--valid-to', '2026-05-31'], 1, /ends \(--valid-to 2026-05-31\) before it starts \(--valid-from 2026-06-01\)/],
      [['route', 'add', ...base, '--valid-from', '2026-02-30'], 2, /--valid-from '2026-02-30' is not a date: write it as YYYY-MM-DD/],
      [['route', 'add', ...base, '--valid-to', '31-12-2026'], 2, /--valid-to '31-12-2026' is not a date/],
      [['route', 'add', '--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-b', '--authority', '0751', '--valid-from', '2026-12-31'], 1, /Route \d+ already carries InfRef \d+ from 'afsender-a' to 'modtager-b' for 0751 Aarhus .*route remove/],
      [['route', 'add', ...base.slice(0, 6)], 2, /--authority/],
      [['route', 'remove', '99999'], 1, /Unknown route 99999/],
      [['route', 'remove', 'abc'], 2, /Route 'abc' is not an id/],
      [['route', 'list', '--sender', 'ghost'], 1, /Unknown sender system 'ghost'/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(message) });
    });
    // A period after the existing one does not overlap it.
    const later = await run('route', 'add', '--sender', 'afsender-a', '--infref', infA.name, '--recipient', 'modtager-b', '--authority', '0751', '--valid-from', '2027-01-01');
    expect(later.code).toBe(0);
    // A revoked InfRef cannot get a route.
    await db.pool.query("UPDATE infrefs SET status = 'revoked', status_reason = 'test' WHERE number = $1", [infB.number]);
    const revoked = await run('route', 'add', '--sender', 'modtager-b', '--infref', infB.name, '--recipient', 'modtager-c', '--authority', '0751');
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/is revoked \(test\)/);
  });
});

describe('agreement', () => {
  it('requests, approves and rejects agreements; hasApprovedAgreement follows', async () => {
    const aarhus = (await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '0751' }))!;
    expect(await hasApprovedAgreement(db.pool, a.id, 'send', aarhus.id)).toBe(false);
    const req = await run('agreement', 'request', '--system', 'afsender-a', '--service', 'send', '--authority', '751', '--json', '--by', 'jens');
    expect(req.code).toBe(0);
    const id = req.json().id;
    expect(req.json()).toMatchObject({ system: 'afsender-a', service: 'send', status: 'requested', requestedBy: 'jens' });
    expect(await hasApprovedAgreement(db.pool, a.id, 'send', aarhus.id)).toBe(false);
    const dup = await run('agreement', 'request', '--system', 'afsender-a', '--service', 'send', '--authority', '55133018');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(new RegExp(`already has agreement ${id} \\(requested\\)`));

    const ok = await run('agreement', 'approve', String(id), '--by', 'kirsten');
    expect(ok.stdout).toMatch(new RegExp(`Approved agreement ${id}: 'afsender-a' may send for 0751 Aarhus\\.`));
    expect(await hasApprovedAgreement(db.pool, a.id, 'send', aarhus.id)).toBe(true);
    expect(await hasApprovedAgreement(db.pool, a.id, 'fetch', aarhus.id)).toBe(false);

    const fetch = (await run('agreement', 'request', '--system', 'modtager-b', '--service', 'fetch', '--authority', '0751', '--json')).json();
    const no = await run('agreement', 'reject', String(fetch.id), '--reason', 'Ingen databehandleraftale');
    expect(no.code).toBe(0);
    expect(await hasApprovedAgreement(db.pool, b.id, 'fetch', aarhus.id)).toBe(false);
    const approveRejected = await run('agreement', 'approve', String(fetch.id));
    expect(approveRejected.code).toBe(1);
    expect(approveRejected.stderr).toMatch(/is already rejected \(Ingen databehandleraftale\); it cannot be approved\. A new request can be made/);
    // After a rejection, a new request is allowed.
    expect((await run('agreement', 'request', '--system', 'modtager-b', '--service', 'fetch', '--authority', '0751')).code).toBe(0);

    const [list, approvedOfA] = await Promise.all([run('agreement', 'list'), run('agreement', 'list', '--system', 'afsender-a', '--status', 'approved', '--json')]);
    expect(list.stdout).toMatch(/^ID\s+SYSTEM\s+SERVICE\s+AUTHORITY\s+STATUS\s+REASON$/m);
    expect(list.stdout).toMatch(/modtager-b\s+fetch\s+0751 Aarhus\s+rejected\s+Ingen databehandleraftale/);
    expect(approvedOfA.json()).toHaveLength(1);
    const trail = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'agreement' AND entity_id = $1 ORDER BY id", [String(id)]);
    expect(trail.rows).toEqual([
      { actor: 'jens', action: 'agreement.request' },
      { actor: 'kirsten', action: 'agreement.approve' },
    ]);
  });

  it('refuses bad agreement input', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['agreement', 'request', '--system', 'afsender-a', '--service', 'upload', '--authority', '0751'], 2, /--service 'upload' is not a service: use 'send' or 'fetch'/],
      [['agreement', 'request', '--system', 'ghost', '--service', 'send', '--authority', '0751'], 1, /Unknown system 'ghost'/],
      [['agreement', 'request', '--system', 'afsender-a', '--service', 'send', '--authority', '0999'], 1, /Unknown kommunekode 0999/],
      [['agreement', 'approve', '99999'], 1, /Unknown agreement 99999/],
      [['agreement', 'reject', 'x'], 2, /Agreement 'x' is not an id/],
      [['agreement', 'list', '--status', 'pending'], 2, /--status 'pending' is not a state/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(message) });
    });
  });
});

describe('query modules for the SFTP edge and the router', () => {
  it('finds systems by user name and by UUID without regard to case', async () => {
    expect(await findSystemByUsername(db.pool, 'modtager-b')).toEqual({ id: b.id, username: 'modtager-b', uuid: 'cfcf2769-9a1f-4d3b-b6d2-ddfb3a2f9dd6', vendorId: b.vendorId, enabled: true, inboxLayout: 'per-authority', metadataFormat: 'file-metadata' });
    expect((await findSystemByUuid(db.pool, 'CFCF2769-9A1F-4D3B-B6D2-DDFB3A2F9DD6'))?.username).toBe('modtager-b');
    expect(await findSystemByUuid(db.pool, 'not-a-uuid')).toBeUndefined();
    expect(await findSystemByUsername(db.pool, 'MODTAGER-B')).toBeUndefined();
    expect((await findSystemByUsername(db.pool, 'modtager-c'))?.inboxLayout).toBe('flat');
  });

  it('routedPair arranges sender, recipient, approved InfRef and route in one call', async () => {
    const pair = await routedPair(db.pool, { dataDir: dir, authority: '0101' });
    const kbh = (await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '101' }))!;
    const routes = await findRoutes(db.pool, { senderSystemId: pair.sender.id, infrefNumber: pair.infref.number, authorityId: kbh.id, onDate: '2026-11-22' });
    expect(routes.map((r) => r.recipientSystemId)).toEqual([pair.recipient.id]);
    expect(pair.sender.privateKey).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
  });
});
