import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUOTA_MAX_AGE_MS, QUOTA_NEAR_AGE_MS, SystemQuota, SystemQuotas } from '../src/sftp/upload-quota.js';

/**
 * A system's quota on one node: measured (/OUT and the database) at the first upload, then kept by
 * count; measured again after 10 s, or after 1 s (or a removal) while less than a tenth is free.
 */
describe('SystemQuota', () => {
  let out: string;
  let now: number;
  let lookups: number;
  let quotaBytes: number;
  let failing: boolean;
  const errors: Array<{ message: string; kept: boolean }> = [];
  const quota = () =>
    new SystemQuota(
      out,
      async () => {
        lookups++;
        if (failing) throw new Error('connection refused');
        return { quotaBytes, spooledBytes: 500 };
      },
      (err, kept) => errors.push({ message: err.message, kept }),
      () => now,
    );

  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'fu-quota-'));
    await writeFile(join(out, 'a.bin'), Buffer.alloc(8192, 1));
    now = 1_000_000;
    lookups = 0;
    quotaBytes = 1_000_000;
    failing = false;
    errors.length = 0;
  });
  afterEach(async () => rm(out, { recursive: true, force: true }));

  it('serves 100 uploads with one measurement while far from the quota, counting what they write, and measures again after 10 s', async () => {
    const q = quota();
    expect(await q.current()).toEqual({ quotaBytes: 1_000_000, heldBytes: 500 + 8192 });
    for (let i = 0; i < 100; i++) {
      await q.current();
      expect(q.grow(1000, true)).toBe(true);
      now += 50;
    }
    expect(lookups).toBe(1);
    expect(q.state()).toEqual({ quotaBytes: 1_000_000, heldBytes: 500 + 8192 + 100_000 });
    q.forget(); // far from the quota a removal changes nothing that matters
    await q.current();
    expect(lookups).toBe(1);
    now += QUOTA_MAX_AGE_MS;
    await writeFile(join(out, 'other-node.bin'), Buffer.alloc(4096, 2)); // another node's upload
    expect(await q.current()).toEqual({ quotaBytes: 1_000_000, heldBytes: 500 + 8192 + 4096 });
    expect(lookups).toBe(2);
  });

  it('refuses the growth that would pass the quota and counts nothing of it; uploads share the room; a discarded one gives it back', async () => {
    const q = quota();
    await q.current();
    const room = 1_000_000 - 500 - 8192;
    expect(q.grow(room - 10, true)).toBe(true);
    expect(q.grow(11, true)).toBe(false);
    expect(q.state()!.heldBytes).toBe(1_000_000 - 10);
    expect(q.grow(11, false)).toBe(true); // a copy being resumed is counted, never refused
    q.shrink(room);
    expect(q.grow(room - 1, true)).toBe(true);
  });

  it('near the quota measures again after 1 s or after a removal, so a file routing took or the client removed frees room', async () => {
    quotaBytes = 20_000;
    const q = quota();
    expect(await q.current()).toEqual({ quotaBytes: 20_000, heldBytes: 8692 });
    expect(q.grow(10_000, true)).toBe(true); // 1,308 bytes free: less than a tenth
    await writeFile(join(out, 'b.bin'), Buffer.alloc(10_000, 2)); // that upload, closed
    await rm(join(out, 'b.bin')); // routing took it (nothing this node's sessions did)
    now += QUOTA_NEAR_AGE_MS / 2;
    await q.current();
    expect(lookups).toBe(1);
    now += QUOTA_NEAR_AGE_MS;
    expect(await q.current()).toEqual({ quotaBytes: 20_000, heldBytes: 8692 });
    expect(lookups).toBe(2);
    expect(q.grow(10_000, true)).toBe(true); // near again
    await writeFile(join(out, 'c.bin'), Buffer.alloc(10_000, 3));
    await rm(join(out, 'a.bin')); // the client removes a file
    q.forget();
    expect(await q.current()).toEqual({ quotaBytes: 20_000, heldBytes: 500 + 12_288 });
    expect(lookups).toBe(3);
  });

  it('without an answer from the database the upload goes on without a quota and the next asks a second later; with an earlier answer that one holds', async () => {
    failing = true;
    const q = quota();
    expect(await q.current()).toBeUndefined();
    expect(q.grow(10_000_000, true)).toBe(true);
    now += 500;
    expect(await q.current()).toBeUndefined();
    expect(lookups).toBe(1);
    failing = false;
    now += 600;
    expect(await q.current()).toEqual({ quotaBytes: 1_000_000, heldBytes: 8692 });
    failing = true;
    now += QUOTA_MAX_AGE_MS + 1;
    expect(await q.current()).toEqual({ quotaBytes: 1_000_000, heldBytes: 8692 });
    expect(errors).toEqual([
      { message: 'connection refused', kept: false },
      { message: 'connection refused', kept: true },
    ]);
  });

  it('is one per system for its sessions on this node, made again once its last session ended', () => {
    let made = 0;
    const quotas = new SystemQuotas(() => (made++, quota()));
    const a = quotas.acquire(7, out);
    expect(quotas.acquire(7, out)).toBe(a);
    expect(quotas.acquire(8, out)).not.toBe(a);
    quotas.release(7);
    expect(quotas.acquire(7, out)).toBe(a);
    quotas.release(7);
    quotas.release(7);
    expect(quotas.acquire(7, out)).not.toBe(a);
    expect(made).toBe(3);
  });
});
