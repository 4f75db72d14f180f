import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuotaMeter } from '../src/sftp/upload-quota.js';

/** A session measures /OUT and asks the database at most once a second, and keeps count in between. */
describe('QuotaMeter', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fu-quota-'));
    await writeFile(join(out, 'a.bin'), Buffer.alloc(8192, 1));
  });
  afterAll(async () => rm(out, { recursive: true, force: true }));

  it('reuses one measurement for a second, adds what the session closed, and measures again after a removal or a second', async () => {
    let lookups = 0;
    let now = 1_000_000;
    const meter = new QuotaMeter(out, async () => (lookups++, { quotaBytes: 100_000, spooledBytes: 500 }), () => now);
    const first = await meter.measure();
    expect(first).toEqual({ quotaBytes: 100_000, heldBytes: 500 + 8192 });
    for (let i = 0; i < 100; i++) {
      await meter.measure();
      meter.closed(10);
    }
    expect(lookups).toBe(1);
    expect((await meter.measure()).heldBytes).toBe(500 + 8192 + 1000);
    meter.forget();
    expect((await meter.measure()).heldBytes).toBe(500 + 8192);
    expect(lookups).toBe(2);
    now += 1001;
    await meter.measure();
    expect(lookups).toBe(3);
  });
});
