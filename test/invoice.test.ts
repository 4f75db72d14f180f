import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestAgreement } from '../src/agreements/agreements.js';
import { terminateAgreement } from '../src/agreements/change-agreement.js';
import { auditTrail } from '../src/audit/audit.js';
import { invoiceForQuarter } from '../src/prices/invoice.js';
import { recordDelivered } from '../src/router/sql/record-delivered.js';
import { StepLog } from '../src/router/sql/transfer-steps.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { approveAgreement, issueInfRef, migrated, registerSystem, type TestSystem } from './helpers/factories.js';

/**
 * SPEC §13: a quarter's invoice compared with figures worked out by hand.
 *
 * Quarter 2026Q4 = 2026-10-01 … 2026-12-31, 92 days.
 * Prices (set with the CLI below):
 *   buffet  12,00 DKK/inhabitant/year from 2026-01-01, 13.50 from 2026-12-01 (splits the buffet line)
 *   send    0.25 DKK/file + 10.00 DKK/GiB from 2026-10-01, 0.30 + 8.00 from 2026-11-16 (splits the send line)
 *   fetch   0.10 DKK/file + 1.00 DKK/GiB from 2026-11-01 (October's fetches are inside the buffet)
 *
 * København (0101), 667,099 inhabitants: agreement approved 2026-09-01, terminated effective 2026-11-01
 *   (the first day it no longer counts) → counted 2026-10-01 … 2026-10-31 = 31 days:
 *   667,099 × 1,200 øre × 31 / (4 × 92) = 24,816,082,800 / 368 = 67,435,007.61 → 67,435,008 øre
 *
 * Aarhus (0751), 367,095 inhabitants: agreement approved 2026-11-16 10:00 (mid-quarter) → 46 days,
 *   split at the buffet change on 2026-12-01:
 *   2026-11-16 … 11-30, 15 days: 367,095 × 1,200 × 15 / 368 =  6,607,710,000 / 368 = 17,955,733.70 → 17,955,734
 *   2026-12-01 … 12-31, 31 days: 367,095 × 1,350 × 31 / 368 = 15,362,925,750 / 368 = 41,747,080.84 → 41,747,081
 *
 * Aarhus's deliveries (afsender-a of Leverandør A sends; modtager-b of Leverandør B and modtager-c
 * of Leverandør A fetch; times in Danish time):
 *   2026-09-30 23:30  999 B         → b   (Q3: not counted)
 *   2026-10-05 12:00  1,073,741,824 → b
 *   2026-11-15 23:30  100,000,000   → b
 *   2026-11-16 00:30  16,777,216    → b
 *   2026-11-20 09:00  536,870,912   → b and c (two deliveries: two files for the sender)
 *   2027-01-01 00:30  5,000         → b   (Q1 2027: not counted)
 * send, afsender-a, 10-01 … 11-15: 2 files, 1,173,741,824 B: 2 × 25 + 1,173,741,824 × 1,000 / 2^30
 *   = 50 + 1,093.13 = 1,143.13 → 1,143 øre
 * send, afsender-a, 11-16 … 12-31: 3 files, 16,777,216 + 2 × 536,870,912 = 1,090,519,040 B:
 *   3 × 30 + 1,090,519,040 × 800 / 2^30 = 90 + 812.5 = 902.5 → 903 øre (half up)
 * fetch, modtager-c, 11-01 … 12-31: 1 file, 536,870,912 B: 10 + 50 = 60 øre
 * fetch, modtager-b, 11-01 … 12-31: 3 files, 100,000,000 + 16,777,216 + 536,870,912 = 653,648,128 B:
 *   30 + 653,648,128 × 100 / 2^30 = 30 + 60.88 = 90.88 → 91 øre
 * Aarhus total: 17,955,734 + 41,747,081 + 1,143 + 903 + 60 + 91 = 59,705,012 øre
 *
 * Odense (0461) has only a requested agreement and no deliveries: no block.
 */
const EXPECTED_CSV = `quarter,authority,name,line,vendor,system,service,first_day,last_day,days,inhabitants,files,bytes,price_per_inhabitant_dkk,price_per_file_dkk,price_per_gib_dkk,amount_ore,amount_dkk
2026Q4,0101,København,buffet,,,,2026-10-01,2026-10-31,31,667099,,,12.00,,,67435008,674350.08
2026Q4,0101,København,total,,,,2026-10-01,2026-12-31,,,,,,,,67435008,674350.08
2026Q4,0751,Aarhus,buffet,,,,2026-11-16,2026-11-30,15,367095,,,12.00,,,17955734,179557.34
2026Q4,0751,Aarhus,buffet,,,,2026-12-01,2026-12-31,31,367095,,,13.50,,,41747081,417470.81
2026Q4,0751,Aarhus,per-use,Leverandør A,afsender-a,send,2026-10-01,2026-11-15,,,2,1173741824,,0.25,10.00,1143,11.43
2026Q4,0751,Aarhus,per-use,Leverandør A,afsender-a,send,2026-11-16,2026-12-31,,,3,1090519040,,0.30,8.00,903,9.03
2026Q4,0751,Aarhus,per-use,Leverandør A,modtager-c,fetch,2026-11-01,2026-12-31,,,1,536870912,,0.10,1.00,60,0.60
2026Q4,0751,Aarhus,per-use,Leverandør B,modtager-b,fetch,2026-11-01,2026-12-31,,,3,653648128,,0.10,1.00,91,0.91
2026Q4,0751,Aarhus,total,,,,2026-10-01,2026-12-31,,,,,,,,59705012,597050.12
`;

// The database, a data folder for the systems' homes, and the three systems of the story above.
let db: TestDatabase;
let dir: string;
let a: TestSystem, b: TestSystem, c: TestSystem;
const run = (...args: string[]) => cli(args, { DATABASE_URL: db.url });

beforeAll(async () => {
  db = await createTestDatabase('invoice');
  dir = mkdtempSync(join(tmpdir(), 'fu-invoice-'));
  await migrated(db.pool);
  a = await registerSystem(db.pool, { username: 'afsender-a', vendor: 'Leverandør A', dataDir: dir });
  b = await registerSystem(db.pool, { username: 'modtager-b', vendor: 'Leverandør B', dataDir: dir });
  c = await registerSystem(db.pool, { username: 'modtager-c', vendor: 'Leverandør A', dataDir: dir });
  const infref = await issueInfRef(db.pool, a.username, { approve: true });

  for (const args of [
    ['authority', 'update', '101', '--inhabitants', '667099'],
    ['authority', 'update', '0751', '--inhabitants', '367095'],
    ['price', 'set', '--model', 'buffet', '--per-inhabitant', '12,00', '--from', '2026-01-01'],
    ['price', 'set', '--model', 'buffet', '--per-inhabitant', '13.50', '--from', '2026-12-01'],
    ['price', 'set', '--model', 'per-use', '--service', 'send', '--per-file', '0.25', '--per-gib', '10', '--from', '2026-10-01'],
    ['price', 'set', '--model', 'per-use', '--service', 'send', '--per-file', '0,30', '--per-gib', '8.00', '--from', '2026-11-16'],
    ['price', 'set', '--model', 'per-use', '--service', 'fetch', '--per-file', '0.10', '--per-gib', '1', '--from', '2026-11-01'],
  ]) {
    const r = await run(...args);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  }

  // Agreements: approving records now(); the test moves the decision to the day it is about.
  const kbh = await approveAgreement(db.pool, { system: b.username, service: 'fetch', authority: '0101' });
  await db.pool.query(`UPDATE agreements SET decided_at = '2026-09-01T09:00:00+02:00' WHERE id = $1`, [kbh]);
  await terminateAgreement(db.pool, kbh, { reason: 'system retired', effective: '2026-11-01', now: new Date('2026-10-15T10:00:00+02:00') }, 'test');
  const aarhus = await approveAgreement(db.pool, { system: b.username, service: 'fetch', authority: '0751' });
  await db.pool.query(`UPDATE agreements SET decided_at = '2026-11-16T10:00:00+01:00' WHERE id = $1`, [aarhus]);
  await requestAgreement(db.pool, { system: c.username, service: 'fetch', authority: '0461' }, 'test');

  // Deliveries recorded by the router's own statement (which the usage rollup is kept by).
  const aarhusId = (await db.pool.query("SELECT id FROM authorities WHERE kommunekode = '0751'")).rows[0].id;
  const infrefId = (await db.pool.query('SELECT id FROM infrefs LIMIT 1')).rows[0].id;
  const deliver = async (at: string, size: number, recipients: TestSystem[]) => {
    const id = randomUUID();
    await db.pool.query(
      `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, infref_id, authority_id, status, received_at)
       VALUES ($1, $2, 'x.trigger', 'x', $3, $4, $5, 'delivering', $6)`,
      [id, a.id, size, infrefId, aarhusId, at],
    );
    for (const r of recipients) await db.pool.query("INSERT INTO deliveries (transfer_id, recipient_system_id, status) VALUES ($1, $2, 'pending')", [id, r.id]);
    const placed = recipients.map((r) => ({ recipientSystemId: r.id, name: 'x', placedAt: new Date(at), metadataAt: new Date(at) }));
    await recordDelivered(db.pool, { transferId: id, receiptXml: '<receipt/>', placed }, new StepLog());
  };
  await deliver('2026-09-30T23:30:00+02:00', 999, [b]);
  await deliver('2026-10-05T12:00:00+02:00', 1_073_741_824, [b]);
  await deliver('2026-11-15T23:30:00+01:00', 100_000_000, [b]);
  await deliver('2026-11-16T00:30:00+01:00', 16_777_216, [b]);
  await deliver('2026-11-20T09:00:00+01:00', 536_870_912, [b, c]);
  await deliver('2027-01-01T00:30:00+01:00', 5_000, [b]);
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('usage invoice', () => {
  it('matches the hand-worked quarter: buffet pro rata from a mid-quarter approval, per-use lines, price changes splitting lines', async () => {
    const r = await run('usage', 'invoice', '--quarter', '2026Q4', '--csv');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(EXPECTED_CSV);
  });

  it('gives the same figures as JSON, in øre, with totals', async () => {
    const r = await run('usage', 'invoice', '--quarter', '2026q4', '--authority', '751', '--json');
    expect(r.code).toBe(0);
    const inv = r.json();
    expect(inv).toMatchObject({ quarter: '2026Q4', first: '2026-10-01', last: '2026-12-31', totalOre: 59_705_012, warnings: [] });
    expect(inv.authorities).toHaveLength(1);
    expect(inv.authorities[0].lines.map((l: { kind: string; amountOre: number }) => [l.kind, l.amountOre])).toEqual([
      ['buffet', 17_955_734],
      ['buffet', 41_747_081],
      ['per-use', 1_143],
      ['per-use', 903],
      ['per-use', 60],
      ['per-use', 91],
    ]);
    expect(inv.authorities[0].lines[0]).toEqual({ kind: 'buffet', first: '2026-11-16', last: '2026-11-30', days: 15, quarterDays: 92, inhabitants: 367_095, perInhabitantOre: 1_200, amountOre: 17_955_734 });
  });

  it('prints one block per authority with its lines and total for people', async () => {
    const r = await run('usage', 'invoice', '--quarter', '2026Q4');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Invoice basis 2026Q4 \(2026-10-01 – 2026-12-31\)/);
    expect(r.stdout).toMatch(/0751 Aarhus\nLINE/);
    expect(r.stdout).toMatch(/buffet\s+367095 inhabitants × 12\.00 \/ 4 × 15\/92 days\s+2026-11-16\s+2026-11-30\s+179557\.34/);
    expect(r.stdout).toMatch(/total\s+597050\.12/);
    expect(r.stdout).toMatch(/Total 1271400\.20 DKK$/m);
  });

  it('counts the buffet from the day an agreement is approved until the day before its termination takes effect', async () => {
    const q3 = await invoiceForQuarter(db.pool, { quarter: '2026Q3', authority: '0101' });
    // Approved 2026-09-01: 30 of Q3's 92 days. 667,099 × 1,200 × 30 / 368 = 65,259,684.78 → 65,259,685
    expect(q3.authorities[0]!.lines).toEqual([
      { kind: 'buffet', first: '2026-09-01', last: '2026-09-30', days: 30, quarterDays: 92, inhabitants: 667_099, perInhabitantOre: 1_200, amountOre: 65_259_685 },
    ]);
    const q1 = await invoiceForQuarter(db.pool, { quarter: '2027Q1', authority: '0101' });
    expect(q1.authorities[0]).toEqual({ authority: '0101', name: 'København', cvr: expect.any(String), lines: [], totalOre: 0 });
  });

  it('bills a buffet line without an amount and says how to mend it when the inhabitants are not set', async () => {
    const id = await approveAgreement(db.pool, { system: c.username, service: 'fetch', authority: '0851' });
    await db.pool.query(`UPDATE agreements SET decided_at = '2026-08-10T10:00:00+02:00' WHERE id = $1`, [id]);
    const r = await run('usage', 'invoice', '--quarter', '2026Q3', '--authority', '851', '--json');
    expect(r.code).toBe(0);
    expect(r.json().authorities[0].lines[0]).toMatchObject({ kind: 'buffet', inhabitants: null, amountOre: null });
    expect(r.stderr).toMatch(/0851 Aalborg owes the buffet price but its inhabitants are not set; set them with 'filudveksling authority update 0851 --inhabitants <n>'/);
  });

  it('refuses a malformed quarter and an unknown authority, naming the value', async () => {
    const q = await run('usage', 'invoice', '--quarter', '2026-Q4');
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/--quarter '2026-Q4' is not a quarter: give <year>Q<1-4>, e.g\. 2026Q4/);
    const a9 = await run('usage', 'invoice', '--quarter', '2026Q4', '--authority', '999');
    expect(a9.code).toBe(1);
    expect(a9.stderr).toMatch(/Unknown kommunekode 0999/);
  });
});

describe('usage by service, with prices', () => {
  it('attributes each delivery to the sender (send) and each recipient (fetch), filtered by vendor and authority', async () => {
    const r = await run('usage', '--by', 'service', '--from', '2026-11-01', '--to', '2026-11-30', '--vendor', 'Leverandør B', '--authority', '0751', '--json');
    expect(r.code).toBe(0);
    expect(r.json().rows).toEqual([
      { period: '2026-11', authority: '0751', authorityName: 'Aarhus', vendor: 'Leverandør B', system: 'modtager-b', service: 'fetch', files: 3, bytes: 653_648_128 },
    ]);
  });

  it('adds per-use amounts per month for operators, "buffet" where no per-use price held', async () => {
    const r = await run('usage', '--prices', '--from', '2026-10-01', '--to', '2026-10-31', '--csv');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'period,authority,authority_name,vendor,system,service,files,bytes,amount_ore',
        // 25 + 1,073,741,824 × 1,000 / 2^30 = 25 + 1,000 = 1,025 øre; October's fetch has no per-use price
        '2026-10,0751,Aarhus,Leverandør A,afsender-a,send,1,1073741824,1025',
        '2026-10,0751,Aarhus,Leverandør B,modtager-b,fetch,1,1073741824,',
        '',
      ].join('\n'),
    );
    const human = await run('usage', '--prices', '--from', '2026-10-01', '--to', '2026-10-31');
    expect(human.stdout).toMatch(/2026-10\s+0751\s+Leverandør B\s+modtager-b\s+fetch\s+1\s+1073741824\s+buffet/);
    const bad = await run('usage', '--prices', '--by', 'infref');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--prices gives per-use amounts per system and service; it does not go with --by infref/);
  });

  it('keeps each month of usage_monthly equal to the sum of its days in usage_daily', async () => {
    const sums = async (sql: string) => (await db.pool.query(sql)).rows;
    const monthly = await sums(`SELECT month::text, sender_system_id, recipient_system_id, transfers::int, deliveries::int, bytes::bigint FROM usage_monthly ORDER BY 1, 2, 3`);
    const daily = await sums(`SELECT date_trunc('month', day)::date::text AS month, sender_system_id, recipient_system_id, sum(transfers)::int AS transfers,
                                     sum(deliveries)::int AS deliveries, sum(bytes)::bigint AS bytes FROM usage_daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
    expect(monthly).toHaveLength(5);
    expect(monthly).toEqual(daily);
  });

  it('keeps the transfer view: a transfer to two recipients is one transfer and two deliveries', async () => {
    const r = await run('usage', '--by', 'authority', '--from', '2026-11-20', '--to', '2026-11-20', '--json');
    expect(r.json().rows).toEqual([{ period: '2026-11', key: '0751', name: 'Aarhus', transfers: 1, deliveries: 2, bytesSent: 536_870_912, bytesDelivered: 1_073_741_824 }]);
    const unknown = await run('usage', '--vendor', 'Ingen');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown vendor 'Ingen'/);
  });
});

describe('price set | list and authority --inhabitants', () => {
  it('lists prices in DKK, and in øre with --json', async () => {
    const human = await run('price', 'list');
    expect(human.stdout).toMatch(/buffet\s+-\s+2026-12-01\s+13\.50\s+-\s+-\s+\S+\n/);
    expect(human.stdout).toMatch(/per-use\s+send\s+2026-11-16\s+-\s+0\.30\s+8\.00/);
    const json = (await run('price', 'list', '--json')).json();
    expect(json.find((p: { validFrom: string; model: string }) => p.model === 'buffet' && p.validFrom === '2026-12-01')).toMatchObject({ perInhabitantOre: 1350, perFileOre: null, service: null });
  });

  it('replaces a price set again for the same day, and audits both', async () => {
    const first = (await run('price', 'set', '--model', 'per-use', '--service', 'fetch', '--per-file', '1', '--per-gib', '2', '--from', '2030-01-01', '--by', 'anna', '--json')).json();
    const again = await run('price', 'set', '--model', 'per-use', '--service', 'fetch', '--per-file', '1.5', '--per-gib', '2', '--from', '2030-01-01', '--by', 'bo');
    expect(again.stdout).toBe('From 2030-01-01: 1.50 DKK per file + 2.00 DKK per GiB (fetch).\n');
    const trail = await auditTrail(db.pool, 'price', first.id);
    expect(trail.map((t) => [t.action, t.actor, (t.before as { perFileOre?: number } | null)?.perFileOre ?? null, (t.after as { perFileOre: number }).perFileOre])).toEqual([
      ['price.set', 'anna', null, 100],
      ['price.replace', 'bo', 100, 150],
    ]);
  });

  it('refuses amounts, models and dates it cannot read, saying what to give', async () => {
    const cases: [string[], RegExp][] = [
      [['--model', 'buffet', '--per-inhabitant', '12.505', '--from', '2026-01-01'], /--per-inhabitant '12\.505' is not an amount in DKK: give kroner with at most two decimals, e\.g\. 12\.50 or 12,50/],
      [['--model', 'buffet', '--per-inhabitant', '1.234,50', '--from', '2026-01-01'], /no thousands separators/],
      [['--model', 'buffet', '--per-inhabitant', '-3', '--from', '2026-01-01'], /--per-inhabitant '-3' is not an amount in DKK/],
      [['--model', 'buffet', '--per-inhabitant', '12'], /Give --from <YYYY-MM-DD>/],
      [['--model', 'buffet', '--per-inhabitant', '12', '--from', '2026-02-30'], /--from '2026-02-30' is not a date/],
      [['--model', 'buffet', '--from', '2026-01-01'], /Give --per-inhabitant <DKK>/],
      [['--model', 'buffet', '--per-inhabitant', '12', '--service', 'send', '--from', '2026-01-01'], /drop --service, --per-file and --per-gib/],
      [['--model', 'per-use', '--service', 'post', '--per-file', '1', '--per-gib', '1', '--from', '2026-01-01'], /--service 'post' is not a service: use 'send' or 'fetch'/],
      [['--model', 'per-use', '--service', 'send', '--per-file', '1', '--from', '2026-01-01'], /Give both --per-file <DKK> and --per-gib <DKK>/],
      [['--model', 'monthly', '--from', '2026-01-01'], /argument 'monthly' is invalid/],
    ];
    const results = await Promise.all(cases.map(([args]) => run('price', 'set', ...args)));
    cases.forEach(([args, message], i) => {
      expect([args, results[i]!.code]).toEqual([args, 2]);
      expect(results[i]!.stderr).toMatch(message);
    });
    expect((await run('price', 'list', '--json')).json()).toHaveLength(6);
  });

  it('sets inhabitants, shows them in authority list and audits the change', async () => {
    const list = (await run('authority', 'list', '--json')).json();
    expect(list.find((x: { kommunekode: string }) => x.kommunekode === '0751')).toMatchObject({ name: 'Aarhus', inhabitants: 367_095 });
    expect((await run('authority', 'list')).stdout).toMatch(/^0751\s+55133018\s+Aarhus\s+0751\s+367095$/m);
    const r = await run('authority', 'update', '0461', '--inhabitants', '210000');
    expect(r.stdout).toMatch(/Updated 0461 Odense: .* inhabitants 210000\./);
    const id = (await db.pool.query("SELECT id FROM authorities WHERE kommunekode = '0461'")).rows[0].id;
    const trail = await auditTrail(db.pool, 'authority', id);
    expect(trail.map((t) => [t.action, (t.before as { inhabitants: number | null }).inhabitants, (t.after as { inhabitants: number }).inhabitants])).toEqual([['authority.update', null, 210_000]]);
    const bad = ['210.000', '-5', 'many', ''];
    const refused = await Promise.all(bad.map((n) => run('authority', 'update', '0461', '--inhabitants', n)));
    refused.forEach((r, i) => {
      expect([bad[i], r.code]).toEqual([bad[i], 2]);
      expect(r.stderr).toMatch(/--inhabitants '.*' is not a number of inhabitants: give a whole number without separators, e\.g\. 355238/);
    });
  });
});
