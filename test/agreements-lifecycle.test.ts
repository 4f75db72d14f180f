import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGREEMENT_STATES, requestAgreement, terminateAgreement, changeAgreement } from '../src/agreements/agreements.js';
import { hasApprovedAgreement } from '../src/agreements/has-approved-agreement.js';
import { danishDay } from '../src/agreements/danish-day.js';
import { findAuthority } from '../src/authority/find-authority.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { approveAgreement, migrated, registerSystem, type TestSystem } from './helpers/factories.js';
import { AARHUS, createWorld, receiptOutcome, routed, send, waitForFile, xmlValue, type World } from './helpers/router-world.js';

const DAY = 86_400_000;

/** SPEC §11: requested → approved | rejected | withdrawn; approved → terminated from its effective day. */
describe('agreement lifecycle', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => cli(args, env);
  let a: TestSystem;
  let aarhusId: number;

  beforeAll(async () => {
    db = await createTestDatabase('agrlife');
    dir = mkdtempSync(join(tmpdir(), 'fu-agrlife-'));
    env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dir };
    await migrated(db.pool);
    a = await registerSystem(db.pool, { username: 'fag-a', dataDir: dir });
    aarhusId = (await findAuthority(db.pool, { kind: 'kommunekode', kommunekode: '0751' }))!.id;
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the SQL CHECK and the state list in agreement-states.ts the same', async () => {
    const { rows } = await db.pool.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'agreements_status_check'`);
    const inCheck = [...(rows[0].def as string).matchAll(/'([a-z]+)'/g)].map((m) => m[1]).sort();
    expect(inCheck).toEqual([...AGREEMENT_STATES].sort());
  });

  it('requests several authorities at once, withdraws a pending one, and refuses to withdraw an approved one', async () => {
    const r = await run('agreement', 'request', '--system', 'fag-a', '--service', 'fetch', '--authority', '0751,0101', '--authority', '29189463', '--json', '--by', 'lev');
    expect(r.code).toBe(0);
    const made = r.json();
    expect(made.map((m: { kommunekode: string }) => m.kommunekode)).toEqual(['0751', '0101', '0840']);
    expect(made.every((m: { status: string; vendor: string }) => m.status === 'requested' && m.vendor === 'Test Vendor')).toBe(true);

    const w = await run('agreement', 'withdraw', String(made[1].id), '--by', 'lev');
    expect(w.stdout).toMatch(new RegExp(`Withdrew agreement ${made[1].id}: 'fag-a' no longer asks to fetch for 0101 København\\.`));
    expect((await run('agreement', 'approve', String(made[0].id))).code).toBe(0);
    const again = await run('agreement', 'withdraw', String(made[0].id));
    expect({ code: again.code, stderr: again.stderr }).toEqual({
      code: 1,
      stderr: `Agreement ${made[0].id} is already approved; it cannot be withdrawn. To end it, terminate it with a reason and an effective day.\n`,
    });
    // A named authority with a pending or approved agreement refuses the whole request, naming it.
    const dup = await run('agreement', 'request', '--system', 'fag-a', '--service', 'fetch', '--authority', '0101', '--authority', '751');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(new RegExp(`already has agreement ${made[0].id} \\(approved\\) with 0751 Aarhus for the fetch service`));

    const list = await run('agreement', 'list', '--authority', '0101', '--status', 'withdrawn', '--json');
    expect(list.json().map((x: { id: number }) => x.id)).toEqual([made[1].id]);
  });

  it('asks all municipalities at once, leaving out those already asked', async () => {
    await requestAgreement(db.pool, { system: 'fag-a', service: 'send', authority: '0101' }, 'lev');
    const r = await run('agreement', 'request', '--system', 'fag-a', '--service', 'send', '--all-municipalities', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toHaveLength(97);
    expect(r.json().some((x: { kommunekode: string }) => x.kommunekode === '0101')).toBe(false);
    const none = await run('agreement', 'request', '--system', 'fag-a', '--service', 'send', '--all-municipalities');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/already has a pending or approved send agreement with every municipality/);
  });

  it('terminates an approved agreement: it counts until the day before its effective day', async () => {
    const b = await registerSystem(db.pool, { username: 'fag-b', dataDir: dir });
    const id = await approveAgreement(db.pool, { system: 'fag-b', service: 'send', authority: '0751' });
    const tomorrow = danishDay(new Date(Date.now() + DAY));
    const t = await run('agreement', 'terminate', String(id), '--reason', 'Kontrakten udløber', '--effective', tomorrow, '--by', 'kirsten@aarhus.dk');
    expect(t.stdout).toBe(`Terminated agreement ${id}: from ${tomorrow} 'fag-b' may no longer send for 0751 Aarhus.\n`);
    expect(await hasApprovedAgreement(db.pool, b.id, 'send', aarhusId)).toBe(true);
    expect(await hasApprovedAgreement(db.pool, b.id, 'send', aarhusId, tomorrow)).toBe(false);

    const rejected = await run('agreement', 'reject', String(id), '--reason', 'nej');
    expect(rejected.stderr).toBe(`Agreement ${id} is already terminated (from ${tomorrow}); it cannot be rejected. A new request can be made.\n`);
    const twice = await run('agreement', 'terminate', String(id), '--reason', 'igen');
    expect(twice.stderr).toMatch(/is already terminated \(from .*\); it cannot be terminated\. It stops counting on that day/);

    const [human, json] = await Promise.all([run('agreement', 'list', '--system', 'fag-b'), run('agreement', 'list', '--status', 'terminated', '--json')]);
    expect(human.stdout).toMatch(new RegExp(`fag-b\\s+send\\s+0751 Aarhus\\s+terminated from ${tomorrow}\\s+Kontrakten udløber`));
    expect(json.json()).toEqual([expect.objectContaining({ id, status: 'terminated', effective: tomorrow, reason: 'Kontrakten udløber', terminatedBy: 'kirsten@aarhus.dk' })]);
    const trail = await db.pool.query("SELECT actor, action, after FROM audit_log WHERE entity = 'agreement' AND entity_id = $1 ORDER BY id", [String(id)]);
    expect(trail.rows.map((x) => x.action)).toEqual(['agreement.request', 'agreement.approve', 'agreement.terminate']);
    expect(trail.rows[2]).toEqual({ actor: 'kirsten@aarhus.dk', action: 'agreement.terminate', after: { status: 'terminated', reason: 'Kontrakten udløber', effective: tomorrow } });
    // After termination a new request may be made.
    expect((await run('agreement', 'request', '--system', 'fag-b', '--service', 'send', '--authority', '0751')).code).toBe(0);
  });

  it('terminates from today by default, with the clock the caller gives', async () => {
    await registerSystem(db.pool, { username: 'fag-c', dataDir: dir });
    const id = await approveAgreement(db.pool, { system: 'fag-c', service: 'fetch', authority: '0751' });
    const now = new Date('2030-03-31T22:30:00Z'); // already 1 April in Denmark
    const t = await terminateAgreement(db.pool, id, { reason: 'Lukket', now }, 'k');
    expect(t.effective).toBe('2030-04-01');
  });

  it('refuses bad lifecycle input naming the value', async () => {
    const id = (await requestAgreement(db.pool, { system: 'fag-a', service: 'fetch', authority: '0147' }, 'x')).id;
    const yesterday = danishDay(new Date(Date.now() - DAY));
    const cases: Array<[string[], number, RegExp]> = [
      [['agreement', 'terminate', String(id), '--reason', 'x'], 1, new RegExp(`Agreement ${id} is still requested; it cannot be terminated\\. A pending request is approved, rejected or withdrawn`)],
      [['agreement', 'terminate', String(id)], 2, new RegExp(`Give the reason for terminating agreement ${id} with --reason`)],
      [['agreement', 'terminate', String(id), '--reason', 'x', '--effective', yesterday], 2, new RegExp(`--effective ${yesterday} is in the past`)],
      [['agreement', 'terminate', String(id), '--reason', 'x', '--effective', '2030-02-30'], 2, /--effective '2030-02-30' is not a date/],
      [['agreement', 'reject', String(id)], 2, /Give the reason for rejecting agreement/],
      [['agreement', 'withdraw', '0'], 2, /Agreement '0' is not an id/],
      [['agreement', 'request', '--system', 'fag-a', '--service', 'send'], 2, /Give --authority <kommunekode\|cvr> \(one or more\) or --all-municipalities/],
      [['agreement', 'list', '--status', 'ended'], 2, /--status 'ended' is not a state: use requested, approved, rejected, withdrawn or terminated/],
      [['agreement', 'list', '--authority', '0999'], 1, /Unknown kommunekode 0999/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(message) });
    });
    await expect(changeAgreement(db.pool, id, 'approve', { effective: '2030-01-01' }, 'x')).rejects.toThrow('--effective goes with terminate.');
  });
});

/** SPEC §5 1205 in production: a terminated agreement counts as missing from its effective day, not before. */
describe('a terminated agreement in production', () => {
  let p: World;
  beforeAll(async () => {
    p = await createWorld('agrprod', 'postgres', { FILUDVEKSLING_ENV: 'production' });
    await p.start();
  }, 120_000);
  afterAll(async () => p?.close());

  it('delivers while the termination lies ahead, and gives 1205 from its effective day', async () => {
    const { sender, recipient, infref } = await routed(p.db.pool, { dataDir: p.dataDir });
    const send1 = await approveAgreement(p.db.pool, { system: sender.username, service: 'send', authority: AARHUS.kommunekode });
    await approveAgreement(p.db.pool, { system: recipient.username, service: 'fetch', authority: AARHUS.kommunekode });
    await terminateAgreement(p.db.pool, send1, { reason: 'Udløber i morgen', effective: danishDay(new Date(Date.now() + DAY)) }, 'k');
    const before = await send(p, { sender, infref });
    expect(receiptOutcome(await waitForFile(before.receiptPath))).toBe('SUCCESS');

    // The same agreement terminated from today (made so directly: a termination cannot be moved earlier).
    await p.db.pool.query('UPDATE agreements SET effective_on = $2 WHERE id = $1', [send1, danishDay()]);
    const after = await send(p, { sender, infref });
    const receipt = await waitForFile(after.receiptPath);
    expect(receiptOutcome(receipt)).toBe('1205');
    expect(xmlValue(receipt, 'ErrorDescription')).toMatch(new RegExp(`'${sender.username}' has no approved service agreement to send`));
  });
});
