/**
 * A quota of bytes each system may make the server hold in its /OUT and the spool (issue 12 item 3),
 * set with `filudveksling system update <user> --quota`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { addSystem, connect, makeKey, p, refusal, SFTP_STATUS, startHarness, type Harness } from './helpers/sftp-harness.js';

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness('sftpquota');
  env = { DATABASE_URL: h.db.url, FILUDVEKSLING_DATA: h.dataDir };
});
afterAll(async () => h.stop());

describe('system update --quota', () => {
  it('sets the quota (bytes or GiB), audited with before and after; the default is 100 GiB', async () => {
    const key = await makeKey(h.keysDir, 'ed25519');
    await addSystem(h, 'kvote-a', [key]);
    const shown = await h.db.pool.query("SELECT quota_bytes FROM systems WHERE username = 'kvote-a'");
    expect(Number(shown.rows[0].quota_bytes)).toBe(100 * 1024 ** 3);
    const r = await cli(['system', 'update', 'kvote-a', '--quota', '2GiB', '--inbox', 'flat', '--json', '--by', 'ops'], env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.json()).toEqual({ system: 'kvote-a', inboxLayout: 'flat', metadataFormat: 'file-metadata', quotaBytes: 2 * 1024 ** 3 });
    const audit = await h.db.pool.query("SELECT actor, before, after FROM audit_log WHERE action = 'system.update'");
    expect(audit.rows).toEqual([
      {
        actor: 'ops',
        before: { inboxLayout: 'per-authority', metadataFormat: 'file-metadata', quotaBytes: 100 * 1024 ** 3 },
        after: { inboxLayout: 'flat', metadataFormat: 'file-metadata', quotaBytes: 2 * 1024 ** 3 },
      },
    ]);
    const human = await cli(['system', 'update', 'kvote-a', '--quota', '123456'], env);
    expect([human.code, human.stdout]).toEqual([0, expect.stringMatching(/quota 123456 bytes/)]);
  });

  it.each([
    [['--quota', 'lots'], 2, /--quota 'lots' is not an amount of bytes/],
    [['--quota', '0'], 2, /--quota '0' is not an amount of bytes/],
    [['--inbox', 'deep'], 2, /--inbox 'deep' is not a layout/],
    [[], 2, /Say what to change/],
    [['--quota', '123456'], 1, /already has these settings/],
  ])('refuses %j with exit code %i and a message', async (args, code, message) => {
    const r = await cli(['system', 'update', 'kvote-a', ...args], env);
    expect([r.code, r.stderr]).toEqual([code, expect.stringMatching(message)]);
  });

  it('refuses an unknown system with exit code 1', async () => {
    const r = await cli(['system', 'update', 'nobody', '--quota', '1GiB'], env);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/Unknown system 'nobody'/)]);
  });
});

describe('uploads over the quota', () => {
  it('fails the write that would go over, naming the quota; nothing of it is stored; under it uploads go on', async () => {
    const key = await makeKey(h.keysDir, 'ed25519');
    await addSystem(h, 'kvote-b', [key]);
    expect((await cli(['system', 'update', 'kvote-b', '--quota', '300000'], env)).code).toBe(0);
    const c = await connect(h.port, 'kvote-b', key.privateKey);
    try {
      await p.put(c.sftp, '/OUT/first.bin', Buffer.alloc(200_000, 1));
      const handle = await p.open(c.sftp, '/OUT/second.bin', 'w');
      const r = await refusal(p.write(c.sftp, handle, Buffer.alloc(200_000, 2), 0));
      expect([r.code, r.message]).toEqual([SFTP_STATUS.FAILURE, expect.stringMatching(/kvote-b would hold more than its quota of 300000 bytes \(0\.00 GiB\) in \/OUT and the spool/)]);
      expect((await refusal(p.close(c.sftp, handle))).message).toMatch(/nothing was stored/);
      expect((await readdir(join(h.dataDir, 'homes', 'kvote-b', 'OUT'))).sort()).toEqual(['first.bin']);
      await p.put(c.sftp, '/OUT/small.bin', Buffer.alloc(10_000, 3));
    } finally {
      c.end();
    }
  });
});


describe('uploads open at the same time', () => {
  it('share the room left, also between two sessions of one system: the write that would go over fails, whichever upload it is in', async () => {
    const key = await makeKey(h.keysDir, 'ed25519');
    await addSystem(h, 'kvote-c', [key]);
    expect((await cli(['system', 'update', 'kvote-c', '--quota', '300000'], env)).code).toBe(0);
    const one = await connect(h.port, 'kvote-c', key.privateKey);
    const two = await connect(h.port, 'kvote-c', key.privateKey);
    const chunk = Buffer.alloc(30_000, 7);
    try {
      // All three open before any writes: each found /OUT empty.
      const a = await p.open(one.sftp, '/OUT/a.bin', 'w');
      const b = await p.open(two.sftp, '/OUT/b.bin', 'w');
      const c = await p.open(one.sftp, '/OUT/c.bin', 'w');
      for (let i = 0; i < 5; i++) await p.write(one.sftp, a, chunk, i * chunk.length);
      for (let i = 0; i < 5; i++) await p.write(two.sftp, b, chunk, i * chunk.length);
      const overB = await refusal(p.write(two.sftp, b, chunk, 5 * chunk.length));
      expect(overB.message).toMatch(/kvote-c would hold more than its quota of 300000 bytes \(0\.00 GiB\) in \/OUT and the spool, where 300000 bytes/);
      const overC = await refusal(p.write(one.sftp, c, Buffer.alloc(1), 0));
      expect(overC.message).toMatch(/where 300000 bytes \(0\.00 GiB\) are held already/);
      await p.close(one.sftp, a);
      expect((await refusal(p.close(two.sftp, b))).message).toMatch(/nothing was stored/);
      expect((await refusal(p.close(one.sftp, c))).message).toMatch(/nothing was stored/);
      // The refused uploads gave their bytes back: the rest of the quota can be used.
      await p.put(two.sftp, '/OUT/d.bin', Buffer.alloc(100_000, 4));
      expect((await readdir(join(h.dataDir, 'homes', 'kvote-c', 'OUT'))).sort()).toEqual(['a.bin', 'd.bin']);
    } finally {
      one.end();
      two.end();
    }
  });
});
