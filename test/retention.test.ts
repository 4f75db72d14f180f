import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/db/migrate.js';
import { runRetention } from '../src/operations/retention.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const DAY = 86_400_000;

describe('retention (RETENTION_DAYS)', () => {
  let db: TestDatabase;
  let dataDir: string;
  const home = (user: string, ...p: string[]) => join(dataDir, 'homes', user, ...p);
  const ids = { fetched: randomUUID(), unfetched: randomUUID(), fresh: randomUUID(), rejected: randomUUID() };
  const long = new Date(Date.now() - 40 * DAY);

  async function file(path: string, content: string, mtime?: Date) {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
    if (mtime) await utimes(path, mtime, mtime);
  }

  beforeAll(async () => {
    db = await createTestDatabase('retention');
    dataDir = await mkdtemp(join(tmpdir(), 'fu-retention-'));
    await migrate(db.pool);
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q("INSERT INTO vendors (name) VALUES ('v')");
    await q("INSERT INTO systems (username, uuid, vendor_id) VALUES ('afsender-a', $1, 1), ('modtager-b', $2, 1)", [randomUUID(), randomUUID()]);
    const transfer = async (id: string, status: string, placed: Date | null, name: string) => {
      await q("INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, status, received_at) VALUES ($1, 1, $2, $3, 3, $4, $5)", [id, `${name}.trigger`, name, status, placed ?? long]);
      if (placed) {
        await q("INSERT INTO deliveries (transfer_id, recipient_system_id, delivered_name, folder, status, placed_at) VALUES ($1, 2, $2, '0751', 'delivered', $3)", [id, name, placed]);
      }
    };
    await transfer(ids.fetched, 'delivered', long, 'fetched.csv'); // recipient already took it: no file on disk
    await transfer(ids.unfetched, 'delivered', long, 'old.csv');
    await file(home('modtager-b', 'IN', '0751', 'old.csv'), 'old');
    await file(home('modtager-b', 'IN', '0751', 'old.csv.metadata'), '<m/>');
    await transfer(ids.fresh, 'delivered', new Date(), 'new.csv');
    await file(home('modtager-b', 'IN', '0751', 'new.csv'), 'new');
    await transfer(ids.rejected, 'rejected', null, 'bad.csv');
    await file(join(dataDir, 'quarantine', ids.rejected, 'bad.csv'), 'bad', long);
    await utimes(join(dataDir, 'quarantine', ids.rejected), long, long);
    await file(home('afsender-a', 'IN', 'old.csv.sftpreceipt'), '<r/>', long);
    await file(home('afsender-a', 'IN', 'new.csv.sftpreceipt'), '<r/>');
    await file(home('afsender-a', 'OUT', 'forgotten.csv'), 'never triggered', long);
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('purges what is older than the retention period, keeps the rest, and audits every purge', async () => {
    const result = await runRetention({ pool: db.pool, dataDir, retentionDays: 30 });
    expect(result).toEqual({ unfetchedDeliveries: 1, quarantinedTransfers: 1, receipts: 1, abandonedUploads: 1, bytesFreed: 3 + 4 + 3 + 4 + 15 });

    expect(existsSync(home('modtager-b', 'IN', '0751', 'old.csv'))).toBe(false);
    expect(existsSync(home('modtager-b', 'IN', '0751', 'old.csv.metadata'))).toBe(false);
    expect(existsSync(home('modtager-b', 'IN', '0751', 'new.csv'))).toBe(true);
    expect(existsSync(join(dataDir, 'quarantine', ids.rejected))).toBe(false);
    expect(existsSync(home('afsender-a', 'IN', 'old.csv.sftpreceipt'))).toBe(false);
    expect(existsSync(home('afsender-a', 'IN', 'new.csv.sftpreceipt'))).toBe(true);
    expect(existsSync(home('afsender-a', 'OUT', 'forgotten.csv'))).toBe(false);

    const { rows } = await db.pool.query('SELECT id, status FROM transfers ORDER BY file_name');
    const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect(status).toEqual({ [ids.fetched]: 'delivered', [ids.unfetched]: 'expired', [ids.fresh]: 'delivered', [ids.rejected]: 'expired' });

    const audits = await db.pool.query('SELECT action, entity_id FROM audit_log ORDER BY id');
    expect(audits.rows).toEqual([
      { action: 'retention.purge-unfetched', entity_id: ids.unfetched },
      { action: 'retention.purge-quarantine', entity_id: ids.rejected },
      { action: 'retention.purge-receipt', entity_id: 'afsender-a' },
      { action: 'retention.purge-abandoned-upload', entity_id: 'afsender-a' },
    ]);
  });

  it('purges the newer files once the clock has moved past their retention period, and never twice', async () => {
    const later = new Date(Date.now() + 31 * DAY);
    const result = await runRetention({ pool: db.pool, dataDir, retentionDays: 30, now: later });
    expect(result.unfetchedDeliveries).toBe(1);
    expect(result.receipts).toBe(1);
    expect(existsSync(home('modtager-b', 'IN', '0751', 'new.csv'))).toBe(false);
    const again = await runRetention({ pool: db.pool, dataDir, retentionDays: 30, now: later });
    expect(again).toEqual({ unfetchedDeliveries: 0, quarantinedTransfers: 0, receipts: 0, abandonedUploads: 0, bytesFreed: 0 });
  });

  it('keeps the expired transfers listed with their metadata', async () => {
    const { rows } = await db.pool.query("SELECT file_name, expired_at IS NOT NULL AS expired FROM transfers WHERE status = 'expired' ORDER BY file_name");
    expect(rows).toEqual([
      { file_name: 'bad.csv', expired: true },
      { file_name: 'new.csv', expired: true },
      { file_name: 'old.csv', expired: true },
    ]);
  });
});
