import { lstat, mkdir, readdir, readFile, rename as fsRename, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { uploadBytesTotal, uploadsTotal } from '../src/metrics/metrics.js';
import { uploadInProgress } from '../src/storage/temp-names.js';
import { uploadEvents, type UploadClosed, type UploadRenamed } from '../src/sftp/upload-events.js';
import {
  addSystem,
  connect,
  makeKey,
  p,
  refusal,
  sha256,
  SFTP_STATUS,
  startHarness,
  type Connected,
  type Harness,
  type TestKey,
} from './helpers/sftp-harness.js';
import { waitUntil } from './helpers/wait.js';

const USER = 'afsender-a';
let h: Harness;
let key: TestKey;
let c: Connected;
let home: string;

beforeAll(async () => {
  h = await startHarness('sftpfiles');
  key = await makeKey(h.keysDir, 'ed25519');
  await addSystem(h, USER, [key]);
  c = await connect(h.port, USER, key.privateKey);
  home = join(h.dataDir, 'homes', USER);
});
afterAll(async () => {
  c.end();
  await h.stop();
});

function nextEvent<K extends 'closed' | 'renamed'>(name: K, filter: (e: any) => boolean = () => true): Promise<K extends 'closed' ? UploadClosed : UploadRenamed> {
  return new Promise((resolve) => {
    const on = (e: any) => {
      if (!filter(e)) return;
      uploadEvents.off(name, on);
      resolve(e);
    };
    uploadEvents.on(name, on);
  });
}

describe('the sealed home', () => {
  it('shows / with exactly OUT and IN (made at login), and realpath(".") is "/"', async () => {
    expect(await p.realpath(c.sftp, '.')).toBe('/');
    expect(await p.realpath(c.sftp, '/OUT/..')).toBe('/');
    expect(await p.realpath(c.sftp, '../../..')).toBe('/');
    const list = await p.readdir(c.sftp, '/');
    expect(list.map((e) => e.filename).sort()).toEqual(['IN', 'OUT']);
    expect(list.every((e) => e.longname.startsWith('d'))).toBe(true);
    expect((await lstat(join(home, 'OUT'))).isDirectory()).toBe(true);
  });

  it.each([
    ['/OUT/../../etc/passwd', /\.\./],
    ['/IN/../OUT/x', /\.\./],
    ['/OUT/a\\b', /backslash/],
    ['/OUT/a\0b', /NUL/],
  ])('refuses %j with PERMISSION_DENIED and a message', async (path, message) => {
    const r = await refusal(p.stat(c.sftp, path));
    expect(r.code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    expect(r.message).toMatch(message);
    const w = await refusal(p.put(c.sftp, path, Buffer.from('x')));
    expect(w.code).toBe(SFTP_STATUS.PERMISSION_DENIED);
  });

  it('never follows a symbolic link planted on disk, as a file or as a folder on the way', async () => {
    await mkdir(join(home, 'IN', '0751'), { recursive: true });
    await symlink('/etc/passwd', join(home, 'IN', 'passwd'));
    await symlink('/etc', join(home, 'IN', 'etc'));
    await symlink('/tmp', join(home, 'OUT', 'tmp-link'));
    for (const path of ['/IN/passwd', '/IN/etc/hostname', '/OUT/tmp-link']) {
      const r = await refusal(p.get(c.sftp, path));
      expect([SFTP_STATUS.PERMISSION_DENIED, SFTP_STATUS.NO_SUCH_FILE]).toContain(r.code);
    }
    expect((await refusal(p.stat(c.sftp, '/IN/passwd'))).message).toMatch(/symbolic link/);
    expect((await refusal(p.stat(c.sftp, '/IN/etc/hostname'))).message).toMatch(/symbolic link/);
    expect((await refusal(p.readdir(c.sftp, '/IN/etc'))).code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    // Writing through a planted link must not write outside.
    expect((await refusal(p.put(c.sftp, '/OUT/tmp-link', Buffer.from('x')))).code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    // Listings do not show links.
    expect((await p.readdir(c.sftp, '/IN')).map((e) => e.filename)).toEqual(['0751']);
  });

  it('refuses writes outside /OUT, reads of /OUT, and mkdir/rmdir/symlink/readlink/hardlink, each with a message', async () => {
    await writeFile(join(home, 'IN', '0751', 'delivered.csv'), 'data');
    const cases: Array<[() => Promise<unknown>, number, RegExp]> = [
      [() => p.put(c.sftp, '/IN/0751/x.csv', Buffer.from('x')), SFTP_STATUS.PERMISSION_DENIED, /\/OUT/],
      [() => p.put(c.sftp, '/x.csv', Buffer.from('x')), SFTP_STATUS.PERMISSION_DENIED, /\/OUT/],
      [() => p.open(c.sftp, '/IN/0751/delivered.csv', 'r+'), SFTP_STATUS.PERMISSION_DENIED, /read-only|\/OUT/],
      [() => p.mkdir(c.sftp, '/OUT/sub'), SFTP_STATUS.PERMISSION_DENIED, /folder/],
      [() => p.rmdir(c.sftp, '/IN/0751'), SFTP_STATUS.PERMISSION_DENIED, /folder/],
      [() => p.symlink(c.sftp, '/etc/passwd', '/OUT/l'), SFTP_STATUS.PERMISSION_DENIED, /link/],
      [() => p.readlink(c.sftp, '/IN/passwd'), SFTP_STATUS.PERMISSION_DENIED, /link/],
      [() => p.rename(c.sftp, '/IN/0751/delivered.csv', '/OUT/stolen.csv'), SFTP_STATUS.PERMISSION_DENIED, /only between files in \/OUT/],
      [() => p.setstat(c.sftp, '/IN/0751/delivered.csv', { mtime: 1, atime: 1 }), SFTP_STATUS.PERMISSION_DENIED, /only files in \/OUT/],
    ];
    for (const [call, code, message] of cases) {
      const r = await refusal(call());
      expect([r.code, r.message]).toEqual([code, expect.stringMatching(message)]);
    }
    await p.put(c.sftp, '/OUT/own.csv', Buffer.from('mine'));
    const r = await refusal(p.get(c.sftp, '/OUT/own.csv'));
    expect(r.code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    expect(r.message).toMatch(/upload-only/);
    // Permissions are accepted and ignored.
    await p.setstat(c.sftp, '/IN/0751/delivered.csv', { mode: 0o777 });
    expect((await lstat(join(home, 'IN', '0751', 'delivered.csv'))).mode & 0o777).not.toBe(0o777);
  });

  it('refuses a change of owner or group (chown, chgrp) with PERMISSION_DENIED; the same owner sent back is no change', async () => {
    await writeFile(join(home, 'IN', '0751', 'owned.csv'), 'data');
    await p.put(c.sftp, '/OUT/owned.csv', Buffer.from('mine'));
    const before = await lstat(join(home, 'IN', '0751', 'owned.csv'));
    const handle = await p.open(c.sftp, '/OUT/owned-upload.csv', 'w');
    const cases: Array<() => Promise<unknown>> = [
      () => p.setstat(c.sftp, '/IN/0751/owned.csv', { uid: 4242, gid: before.gid }),
      () => p.setstat(c.sftp, '/IN/0751/owned.csv', { uid: before.uid, gid: 4242 }),
      () => p.setstat(c.sftp, '/OUT/owned.csv', { uid: 4242, gid: 4242 }),
      () => p.fsetstat(c.sftp, handle, { uid: 4242, gid: 4242 }),
    ];
    for (const call of cases) {
      const r = await refusal(call());
      expect([r.code, r.message]).toEqual([SFTP_STATUS.PERMISSION_DENIED, expect.stringMatching(/owner or group/)]);
    }
    await p.setstat(c.sftp, '/IN/0751/owned.csv', { uid: before.uid, gid: before.gid, mode: 0o600 });
    await p.fsetstat(c.sftp, handle, { mode: 0o600 });
    await p.close(c.sftp, handle);
    expect((await lstat(join(home, 'IN', '0751', 'owned.csv'))).uid).toBe(before.uid);
    for (const f of ['IN/0751/owned.csv', 'OUT/owned.csv', 'OUT/owned-upload.csv']) await unlink(join(home, f));
  });

  it('lets a system list, read, stat and delete in /IN/**', async () => {
    await writeFile(join(home, 'IN', 'r1.sftpreceipt'), '<receipt/>');
    const list = await p.readdir(c.sftp, '/IN/0751');
    expect(list.map((e) => e.filename)).toEqual(['delivered.csv']);
    expect(list[0]!.longname).toMatch(/^-rw.* 1 afsender afsender +4 \w{3} [ \d]\d [\d:]{5} delivered\.csv$/);
    expect((await p.get(c.sftp, '/IN/0751/delivered.csv')).toString()).toBe('data');
    expect((await p.stat(c.sftp, 'IN/r1.sftpreceipt')).size).toBe(10);
    await p.unlink(c.sftp, '/IN/r1.sftpreceipt');
    await p.unlink(c.sftp, '/IN/0751/delivered.csv');
    expect(await readdir(join(home, 'IN', '0751'))).toEqual([]);
    expect((await refusal(p.unlink(c.sftp, '/IN/0751'))).code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    expect((await refusal(p.unlink(c.sftp, '/IN/nope'))).code).toBe(SFTP_STATUS.NO_SUCH_FILE);
  });

  it('lists large folders in batches', async () => {
    const dir = join(home, 'IN', 'many');
    await mkdir(dir);
    await Promise.all(Array.from({ length: 250 }, (_, i) => writeFile(join(dir, `f${String(i).padStart(3, '0')}`), 'x')));
    const list = await p.readdir(c.sftp, '/IN/many');
    expect(list).toHaveLength(250);
  });
});

describe('uploads', () => {
  it('writes to a hidden temp file and gives the real name only at close, then tells the router', async () => {
    const data = Buffer.from('a;b;c\n1;2;3\n');
    const handle = await p.open(c.sftp, '/OUT/data.csv', 'w');
    await p.write(c.sftp, handle, data, 0);
    const during = await readdir(join(home, 'OUT'));
    expect(during.filter((n) => n.startsWith('.data.csv.fu-upload-'))).toHaveLength(1);
    expect(during).not.toContain('data.csv');
    expect(await uploadInProgress(join(home, 'OUT'), 'data.csv')).toBe(true);
    // Hidden from listings, answered by STAT from the temp file.
    expect((await p.readdir(c.sftp, '/OUT')).map((e) => e.filename)).not.toContain(during[0]);
    expect((await p.stat(c.sftp, '/OUT/data.csv')).size).toBe(data.length);
    expect((await p.fstat(c.sftp, handle)).size).toBe(data.length);

    const closed = nextEvent('closed', (e) => e.name === 'data.csv');
    const t0 = performance.now();
    await p.close(c.sftp, handle);
    const e = await closed;
    expect(e).toEqual({
      systemId: expect.any(Number),
      username: USER,
      name: 'data.csv',
      absPath: join(home, 'OUT', 'data.csv'),
      size: data.length,
      sha256: sha256(data),
      at: expect.any(Number),
    });
    expect(e.at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(await readFile(join(home, 'OUT', 'data.csv'))).toEqual(data);
    expect((await readdir(join(home, 'OUT'))).filter((n) => n.includes('fu-upload'))).toEqual([]);
    expect(await uploadInProgress(join(home, 'OUT'), 'data.csv')).toBe(false);
    // Counted for /metrics.
    expect((await uploadsTotal.get()).values.find((v) => v.labels.system === USER)?.value).toBeGreaterThanOrEqual(1);
    expect((await uploadBytesTotal.get()).values.find((v) => v.labels.system === USER)?.value).toBeGreaterThanOrEqual(data.length);
  });

  it('handles writes out of order and concurrent on one handle (then no SHA-256 is claimed)', async () => {
    const chunk = 32 * 1024;
    const data = Buffer.alloc(chunk * 16);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const handle = await p.open(c.sftp, '/OUT/shuffled.bin', 'w');
    const order = [5, 0, 15, 3, 1, 2, 14, 4, 6, 13, 7, 8, 12, 9, 11, 10];
    const closed = nextEvent('closed', (e) => e.name === 'shuffled.bin');
    await Promise.all(order.map((i) => p.write(c.sftp, handle, data.subarray(i * chunk, (i + 1) * chunk), i * chunk)));
    await p.close(c.sftp, handle);
    const e = await closed;
    expect(e.sha256).toBeUndefined();
    expect(sha256(await readFile(join(home, 'OUT', 'shuffled.bin')))).toBe(sha256(data));
  });

  it('replaces an existing file without changing its inode (copy-on-write resume/append)', async () => {
    await p.put(c.sftp, '/OUT/resume.bin', Buffer.from('first part;'));
    const before = await lstat(join(home, 'OUT', 'resume.bin'));
    // Append without TRUNC (as `reput` / `put -a`): the complete file stays as it is until close.
    const handle = await p.open(c.sftp, '/OUT/resume.bin', 'a');
    await p.write(c.sftp, handle, Buffer.from('second part'), 0);
    expect(await readFile(join(home, 'OUT', 'resume.bin'), 'utf8')).toBe('first part;');
    expect((await p.stat(c.sftp, '/OUT/resume.bin')).size).toBe(22);
    await p.close(c.sftp, handle);
    expect(await readFile(join(home, 'OUT', 'resume.bin'), 'utf8')).toBe('first part;second part');
    const after = await lstat(join(home, 'OUT', 'resume.bin'));
    expect(after.ino).not.toBe(before.ino);
    // Write at an offset without TRUNC (r+ style resume) also works on a copy.
    const h2 = await p.open(c.sftp, '/OUT/resume.bin', 0x02 /* WRITE */);
    await p.write(c.sftp, h2, Buffer.from('FIRST'), 0);
    await p.close(c.sftp, h2);
    expect(await readFile(join(home, 'OUT', 'resume.bin'), 'utf8')).toBe('FIRST part;second part');
  });

  it('lets a READ|WRITE upload handle read back what it wrote (w+), still through a temp file', async () => {
    const handle = await p.open(c.sftp, '/OUT/wplus.bin', 'w+');
    await p.write(c.sftp, handle, Buffer.from('read me back'), 0);
    expect((await p.read(c.sftp, handle, 7, 0)).toString()).toBe('read me');
    expect(await readdir(join(home, 'OUT'))).not.toContain('wplus.bin');
    await p.close(c.sftp, handle);
    expect(await readFile(join(home, 'OUT', 'wplus.bin'), 'utf8')).toBe('read me back');
  });

  it('honours CREAT, TRUNC and EXCL', async () => {
    const WRITE = 0x02;
    const CREAT = 0x08;
    const TRUNC = 0x10;
    const EXCL = 0x20;
    expect((await refusal(p.open(c.sftp, '/OUT/missing.bin', WRITE))).code).toBe(SFTP_STATUS.NO_SUCH_FILE);
    const h1 = await p.open(c.sftp, '/OUT/excl.bin', WRITE | CREAT | EXCL);
    await p.write(c.sftp, h1, Buffer.from('one'), 0);
    await p.close(c.sftp, h1);
    const r = await refusal(p.open(c.sftp, '/OUT/excl.bin', WRITE | CREAT | EXCL));
    expect(r.code).toBe(SFTP_STATUS.FAILURE);
    expect(r.message).toMatch(/already exists/);
    const h2 = await p.open(c.sftp, '/OUT/excl.bin', WRITE | CREAT | TRUNC);
    await p.write(c.sftp, h2, Buffer.from('2'), 0);
    await p.close(c.sftp, h2);
    expect(await readFile(join(home, 'OUT', 'excl.bin'), 'utf8')).toBe('2');
  });

  it('applies SETSTAT/FSETSTAT times and size to an upload, and refuses resizing a complete file', async () => {
    const handle = await p.open(c.sftp, '/OUT/times.bin', 'w');
    await p.write(c.sftp, handle, Buffer.from('0123456789'), 0);
    // Owner and group sent back unchanged (as some clients echo a STAT) are no change.
    await p.fsetstat(c.sftp, handle, { size: 4, mode: 0o600, uid: process.getuid!(), gid: process.getgid!() });
    await p.setstat(c.sftp, '/OUT/times.bin', { atime: 1_600_000_000, mtime: 1_600_000_000 });
    await p.close(c.sftp, handle);
    const st = await p.stat(c.sftp, '/OUT/times.bin');
    expect([st.size, st.mtime]).toEqual([4, 1_600_000_000]);
    await p.setstat(c.sftp, '/OUT/times.bin', { atime: 1_700_000_000, mtime: 1_700_000_000 });
    expect((await p.stat(c.sftp, '/OUT/times.bin')).mtime).toBe(1_700_000_000);
    const r = await refusal(p.setstat(c.sftp, '/OUT/times.bin', { size: 1 }));
    expect(r.code).toBe(SFTP_STATUS.PERMISSION_DENIED);
    expect(r.message).toMatch(/complete/);
  });

  it('refuses to grow an upload with SETSTAT/FSETSTAT past the bytes it holds (no sparse files out of nothing)', async () => {
    const handle = await p.open(c.sftp, '/OUT/sparse.bin', 'w');
    await p.write(c.sftp, handle, Buffer.from('0123456789'), 0);
    for (const call of [() => p.fsetstat(c.sftp, handle, { size: 256 * 1024 * 1024 }), () => p.setstat(c.sftp, '/OUT/sparse.bin', { size: 11 })]) {
      const r = await refusal(call());
      expect([r.code, r.message]).toEqual([SFTP_STATUS.FAILURE, expect.stringMatching(/shortened, not grown past the 10 bytes it holds/)]);
    }
    await p.fsetstat(c.sftp, handle, { size: 10 });
    await p.close(c.sftp, handle);
    const st = await lstat(join(home, 'OUT', 'sparse.bin'));
    expect([st.size, st.blocks * 512 <= 64 * 1024]).toEqual([10, true]);
    await unlink(join(home, 'OUT', 'sparse.bin'));
  });

  it('answers STAT and SETSTAT of a file it just uploaded even after routing took it away', async () => {
    await p.put(c.sftp, '/OUT/taken.trigger', Buffer.from('<Trigger/>'));
    await fsRename(join(home, 'OUT', 'taken.trigger'), join(h.dataDir, 'taken.trigger'));
    expect((await p.stat(c.sftp, '/OUT/taken.trigger')).size).toBe(10);
    await p.setstat(c.sftp, '/OUT/taken.trigger', { atime: 1_600_000_000, mtime: 1_600_000_000 });
    expect((await p.stat(c.sftp, '/OUT/taken.trigger')).mtime).toBe(1_600_000_000);
    // Another session did not upload it: no such file.
    const other = await connect(h.port, USER, key.privateKey);
    expect((await refusal(p.stat(other.sftp, '/OUT/taken.trigger'))).code).toBe(SFTP_STATUS.NO_SUCH_FILE);
    other.end();
  });

  it('refuses bytes beyond MAX_FILE_BYTES with a clear message and stores nothing', async () => {
    const small = await startHarness('sftpmax', {}, { MAX_FILE_BYTES: '1000' });
    try {
      const k = await makeKey(small.keysDir, 'ed25519');
      await addSystem(small, USER, [k]);
      const s = await connect(small.port, USER, k.privateKey);
      const handle = await p.open(s.sftp, '/OUT/big.bin', 'w');
      await p.write(s.sftp, handle, Buffer.alloc(600), 0);
      const r = await refusal(p.write(s.sftp, handle, Buffer.alloc(600), 600));
      expect(r.code).toBe(SFTP_STATUS.FAILURE);
      expect(r.message).toMatch(/MAX_FILE_BYTES = 1000/);
      const c2 = await refusal(p.close(s.sftp, handle));
      expect(c2.message).toMatch(/nothing was stored/);
      expect(await readdir(join(small.dataDir, 'homes', USER, 'OUT'))).toEqual([]);
      s.end();
    } finally {
      await small.stop();
    }
  });

  it('deletes the temp file when the session drops mid-upload; no file appears', async () => {
    const s = await connect(h.port, USER, key.privateKey);
    const handle = await p.open(s.sftp, '/OUT/dropped.csv', 'w');
    await p.write(s.sftp, handle, Buffer.alloc(100_000, 1), 0);
    expect(await uploadInProgress(join(home, 'OUT'), 'dropped.csv')).toBe(true);
    s.client.destroy();
    await waitUntil('the dropped upload\'s temp file to go', async () => !(await uploadInProgress(join(home, 'OUT'), 'dropped.csv')), 5000);
    expect(await readdir(join(home, 'OUT'))).not.toContain('dropped.csv');
  });

  it('renames inside /OUT (plain RENAME does not replace; posix-rename does) and tells the router', async () => {
    await p.put(c.sftp, '/OUT/x.trigger.filepart', Buffer.from('<t/>'));
    const renamed = nextEvent('renamed', (e) => e.to === 'x.trigger');
    await p.rename(c.sftp, '/OUT/x.trigger.filepart', '/OUT/x.trigger');
    expect(await renamed).toEqual({ systemId: expect.any(Number), username: USER, from: 'x.trigger.filepart', to: 'x.trigger', absPath: join(home, 'OUT', 'x.trigger') });
    await p.put(c.sftp, '/OUT/y.trigger', Buffer.from('<y/>'));
    const r = await refusal(p.rename(c.sftp, '/OUT/y.trigger', '/OUT/x.trigger'));
    expect(r.code).toBe(SFTP_STATUS.FAILURE);
    expect(r.message).toMatch(/already exists/);
    await p.posixRename(c.sftp, '/OUT/y.trigger', '/OUT/x.trigger');
    expect(await readFile(join(home, 'OUT', 'x.trigger'), 'utf8')).toBe('<y/>');
    expect((await refusal(p.rename(c.sftp, '/OUT/nope', '/OUT/z'))).code).toBe(SFTP_STATUS.NO_SUCH_FILE);
  });

  it('reads at arbitrary offsets, concurrently, and answers EOF past the end', async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    await writeFile(join(home, 'IN', 'read.bin'), data);
    const handle = await p.open(c.sftp, '/IN/read.bin', 'r');
    const parts = await Promise.all([250_000, 0, 100_000, 299_990].map((off) => p.read(c.sftp, handle, 20_000, off)));
    expect(parts[0]).toEqual(data.subarray(250_000, 270_000));
    expect(parts[1]).toEqual(data.subarray(0, 20_000));
    expect(parts[3]).toEqual(data.subarray(299_990));
    expect((await p.fstat(c.sftp, handle)).size).toBe(300_000);
    const eof = await new Promise<number | undefined>((resolve) => c.sftp.read(handle, Buffer.alloc(10), 0, 10, 400_000, (_e, n) => resolve(n)));
    expect(eof).toBe(0);
    await p.close(c.sftp, handle);
  });

  it('offers statvfs, fsync and limits as OpenSSH extensions', async () => {
    const exts = (c.sftp as unknown as { _extensions: Record<string, string> })._extensions;
    expect(exts).toMatchObject({ 'posix-rename@openssh.com': '1', 'statvfs@openssh.com': '2', 'fsync@openssh.com': '1', 'limits@openssh.com': '1' });
    const vfs = await new Promise<any>((res, rej) => c.sftp.ext_openssh_statvfs('/OUT', (e: any, s: any) => (e ? rej(e) : res(s))));
    expect(vfs.f_bsize).toBeGreaterThan(0);
    const handle = await p.open(c.sftp, '/OUT/synced.bin', 'w');
    await p.write(c.sftp, handle, Buffer.from('x'), 0);
    await new Promise<void>((res, rej) => c.sftp.ext_openssh_fsync(handle, (e) => (e ? rej(e) : res())));
    await p.close(c.sftp, handle);
    // ssh2's client asked limits@openssh.com at start and uses the answer.
    expect((c.sftp as unknown as { _maxWriteLen: number })._maxWriteLen).toBe(255 * 1024);
  });

  it('removes stale upload temp files (older than a day) at start', async () => {
    const { sweepStaleUploads } = await import('../src/sftp/stale-uploads.js');
    const stale = join(home, 'OUT', '.old.csv.fu-upload-0123456789abcdef');
    const fresh = join(home, 'OUT', '.new.csv.fu-upload-0123456789abcdef');
    await writeFile(stale, 'x');
    await writeFile(fresh, 'x');
    const dayAgo = Date.now() / 1000 - 25 * 3600;
    await utimes(stale, dayAgo, dayAgo);
    expect(await sweepStaleUploads(join(h.dataDir, 'homes'))).toBe(1);
    const left = await readdir(join(home, 'OUT'));
    expect(left).toContain('.new.csv.fu-upload-0123456789abcdef');
    expect(left).not.toContain('.old.csv.fu-upload-0123456789abcdef');
    // Temp names are reserved: a client cannot touch them.
    expect((await refusal(p.stat(c.sftp, '/OUT/.new.csv.fu-upload-0123456789abcdef'))).code).toBe(SFTP_STATUS.PERMISSION_DENIED);
  });
});
