import { randomUUID } from 'node:crypto';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

describe('filudveksling usage (forbrugsoversigt)', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  beforeAll(async () => {
    db = await createTestDatabase('usage');
    expect((await cli(['migrate'], env())).code).toBe(0);
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q("INSERT INTO vendors (name) VALUES ('v')");
    for (const [user, uuid] of [['afsender-a', '11111111-1111-4111-8111-111111111111'], ['modtager-b', '22222222-2222-4222-8222-222222222222'], ['modtager-c', '33333333-3333-4333-8333-333333333333']]) {
      await q("INSERT INTO systems (username, uuid, vendor_id) VALUES ($1, $2, 1)", [user, uuid]);
    }
    await q("INSERT INTO infrefs (number, version, owner_system_id, title) VALUES (7, 1, 1, 'Borgere')");
    const aarhus = (await q("SELECT id FROM authorities WHERE kommunekode = '0751'")).rows[0].id;
    const kbh = (await q("SELECT id FROM authorities WHERE kommunekode = '0101'")).rows[0].id;
    // Two delivered transfers in November (one to two recipients), one in December, one rejected.
    const transfer = async (at: string, authority: number, size: number, status: string, recipients: number[]) => {
      const id = randomUUID();
      await q(
        `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, infref_id, authority_id, status, received_at)
         VALUES ($1, 1, 'x.trigger', 'x', $2, 1, $3, $4, $5)`,
        [id, size, authority, status, at],
      );
      for (const r of recipients) {
        await q("INSERT INTO deliveries (transfer_id, recipient_system_id, status, placed_at) VALUES ($1, $2, 'delivered', $3)", [id, r, at]);
      }
    };
    await transfer('2026-11-03T10:00:00+01:00', aarhus, 1000, 'delivered', [2, 3]);
    await transfer('2026-11-30T23:30:00+01:00', kbh, 500, 'delivered', [2]);
    await transfer('2026-12-01T00:30:00+01:00', aarhus, 200, 'delivered', [2]);
    await transfer('2026-11-05T10:00:00+01:00', aarhus, 9999, 'rejected', []);
  });
  afterAll(async () => db.drop());

  it('counts transfers, deliveries and bytes per month and sending system, leaving rejections out', async () => {
    const r = await cli(['usage', '--json'], env());
    expect(r.code).toBe(0);
    expect(r.json().rows).toEqual([
      { period: '2026-11', key: '11111111-1111-4111-8111-111111111111', name: 'afsender-a', transfers: 2, deliveries: 3, bytesSent: 1500, bytesDelivered: 2500 },
      { period: '2026-12', key: '11111111-1111-4111-8111-111111111111', name: 'afsender-a', transfers: 1, deliveries: 1, bytesSent: 200, bytesDelivered: 200 },
    ]);
  });

  it('groups by authority (kommunekode) within a period given in Danish days', async () => {
    const r = await cli(['usage', '--by', 'authority', '--from', '2026-11-01', '--to', '2026-11-30', '--json'], env());
    expect(r.json().rows.map((x: any) => [x.period, x.key, x.name, x.transfers, x.bytesDelivered])).toEqual([
      ['2026-11', '0101', 'København', 1, 500],
      ['2026-11', '0751', 'Aarhus', 1, 2000],
    ]);
  });

  it('groups by InfRef and writes CSV for spreadsheets', async () => {
    const r = await cli(['usage', '--by', 'infref', '--csv'], env());
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'period,infref,name,transfers,deliveries,bytes_sent,bytes_delivered',
      '2026-11,FagsystemdefineredeDataRefGDPR7_1,Borgere,2,3,1500,2500',
      '2026-12,FagsystemdefineredeDataRefGDPR7_1,Borgere,1,1,200,200',
    ]);
  });

  it('prints an aligned table for people', async () => {
    const r = await cli(['usage', '--by', 'authority'], env());
    expect(r.stdout).toMatch(/^PERIOD\s+AUTHORITY\s+NAME\s+TRANSFERS/m);
    expect(r.stdout).toMatch(/2026-12\s+0751\s+Aarhus\s+1\s+1\s+200\s+200/);
  });

  it('refuses a malformed or reversed period as bad usage', async () => {
    const bad = await cli(['usage', '--from', '2026-13-45'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from takes a date as YYYY-MM-DD, got "2026-13-45"/);
    const reversed = await cli(['usage', '--from', '2026-12-01', '--to', '2026-11-01'], env());
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toMatch(/before --from/);
    const dim = await cli(['usage', '--by', 'vendor'], env());
    expect(dim.code).toBe(2);
  });
});
