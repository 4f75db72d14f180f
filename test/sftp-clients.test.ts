import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, freePort, startServe } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { loadConfig } from '../src/config/config.js';
import { addSystem, connect, curl, makeKey, run, sftpBatch, sha256, startHarness, type Harness, type TestKey } from './helpers/sftp-harness.js';

const USER = 'afsender-a';
let h: Harness;
let ed: TestKey;
let rsa: TestKey;
let home: string;
let work: string;

beforeAll(async () => {
  h = await startHarness('sftpclients');
  ed = await makeKey(h.keysDir, 'ed25519');
  rsa = await makeKey(h.keysDir, 'rsa');
  await addSystem(h, USER, [ed, rsa]);
  home = join(h.dataDir, 'homes', USER);
  work = join(h.keysDir, 'work');
  await mkdir(work);
});
afterAll(async () => h.stop());

function pseudoRandom(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('OpenSSH sftp -b', () => {
  it('uploads, lists, renames, downloads and deletes (RSA key, aes128-gcm)', async () => {
    const data = pseudoRandom(3 * 1024 * 1024 + 17, 1);
    await writeFile(join(work, 'upload.csv'), data);
    await mkdir(join(home, 'IN', '0751'), { recursive: true });
    await writeFile(join(home, 'IN', '0751', 'delivered.csv'), data);
    const r = await sftpBatch(
      h.port,
      USER,
      rsa.file,
      [
        'pwd',
        'ls -l',
        `put ${join(work, 'upload.csv')} /OUT/upload.csv.filepart`,
        'rename /OUT/upload.csv.filepart /OUT/upload.csv',
        'chmod 600 /OUT/upload.csv',
        'ls -l /OUT',
        'cd IN/0751',
        `get delivered.csv ${join(work, 'downloaded.csv')}`,
        'rm delivered.csv',
        'cd ..',
        'ls -l',
        'df -h',
      ],
      ['-c', 'aes128-gcm@openssh.com'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Remote working directory: \//);
    expect(r.stdout).toMatch(/-rw-r----- +1 afsender afsender +3145745 \w{3} [ \d]\d \d\d:\d\d upload\.csv/);
    expect(sha256(await readFile(join(home, 'OUT', 'upload.csv')))).toBe(sha256(data));
    expect(sha256(await readFile(join(work, 'downloaded.csv')))).toBe(sha256(data));
    expect(await readdir(join(home, 'IN', '0751'))).toEqual([]);
  });

  it('resumes a download (reget) and an upload (reput)', async () => {
    const data = pseudoRandom(2 * 1024 * 1024, 2);
    await writeFile(join(home, 'IN', 'resume.bin'), data);
    await writeFile(join(work, 'partial.bin'), data.subarray(0, 700_000));
    const r = await sftpBatch(h.port, USER, ed.file, [`reget /IN/resume.bin ${join(work, 'partial.bin')}`]);
    expect(r.code).toBe(0);
    expect(sha256(await readFile(join(work, 'partial.bin')))).toBe(sha256(data));

    await writeFile(join(work, 'whole.bin'), data);
    await writeFile(join(home, 'OUT', 'resume.bin'), data.subarray(0, 1_000_000));
    const before = await stat(join(home, 'OUT', 'resume.bin'));
    const u = await sftpBatch(h.port, USER, ed.file, [`reput ${join(work, 'whole.bin')} /OUT/resume.bin`]);
    expect(u.code).toBe(0);
    expect(sha256(await readFile(join(home, 'OUT', 'resume.bin')))).toBe(sha256(data));
    expect((await stat(join(home, 'OUT', 'resume.bin'))).ino).not.toBe(before.ino);
  });

  it('shows every refusal as an error naming the path', async () => {
    for (const [cmd, message] of [
      ['mkdir /OUT/sub', /mkdir "\/OUT\/sub": Permission denied/],
      ['put /etc/hostname /IN/x', /Permission denied/],
      ['get /OUT/upload.csv /dev/null', /Permission denied/],
      ['ln -s /etc/passwd /OUT/l', /Permission denied/],
      ['get /IN/nope /dev/null', /not found|No such file/],
    ] as const) {
      const r = await sftpBatch(h.port, USER, ed.file, [cmd]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('SFTP_FSYNC=on-request', () => {
  it('still publishes complete files only at close, and honours put -f (fsync@openssh.com)', async () => {
    const fast = await startHarness('sftpfsync', {}, {}, { fsync: 'on-request' });
    try {
      await addSystem(fast, USER, [ed]);
      const data = pseudoRandom(200_000, 9);
      await writeFile(join(work, 'fsync.bin'), data);
      const r = await sftpBatch(fast.port, USER, ed.file, [`put ${join(work, 'fsync.bin')} /OUT/a.bin`, `put -f ${join(work, 'fsync.bin')} /OUT/b.bin`]);
      expect(r.code).toBe(0);
      for (const n of ['a.bin', 'b.bin']) expect(sha256(await readFile(join(fast.dataDir, 'homes', USER, 'OUT', n)))).toBe(sha256(data));
      expect((await readdir(join(fast.dataDir, 'homes', USER, 'OUT'))).sort()).toEqual(['a.bin', 'b.bin']);
    } finally {
      await fast.stop();
    }
  });
});

describe('curl sftp:// (libssh2)', () => {
  it('is built with sftp support', async () => {
    const v = await run('curl', ['-V']);
    expect(v.stdout).toMatch(/Protocols:.* sftp/);
  });

  it('uploads, lists, downloads, resumes a download, renames and deletes (ed25519 key)', async () => {
    const data = pseudoRandom(1024 * 1024 + 3, 3);
    await writeFile(join(work, 'curl-up.bin'), data);
    const base = `sftp://127.0.0.1:${h.port}`;
    const up = await curl(['-T', join(work, 'curl-up.bin'), `${base}/OUT/curl-up.bin`], ed.file, USER);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect(sha256(await readFile(join(home, 'OUT', 'curl-up.bin')))).toBe(sha256(data));

    await writeFile(join(home, 'IN', 'curl-down.bin'), data);
    const ls = await curl([`${base}/IN/`], ed.file, USER);
    expect(ls.stdout).toMatch(/curl-down\.bin/);
    const out = join(work, 'curl-down.bin');
    await writeFile(out, data.subarray(0, 300_000));
    const get = await curl(['-C', '-', '-o', out, `${base}/IN/curl-down.bin`], ed.file, USER);
    expect(get.code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(data));

    const mv = await curl(['-Q', 'rename /OUT/curl-up.bin /OUT/curl-renamed.bin', '-Q', 'rm /IN/curl-down.bin', `${base}/OUT/`], ed.file, USER);
    expect(mv.code).toBe(0);
    expect(await readdir(join(home, 'OUT'))).toContain('curl-renamed.bin');
    expect(await readdir(join(home, 'IN'))).not.toContain('curl-down.bin');
  });
});

describe('filudveksling serve', () => {
  it('runs the SFTP server (role sftp), logs host key fingerprints and native crypto, and serves a system', async () => {
    const db = await createTestDatabase('sftpserve');
    const dataDir = join(h.keysDir, 'serve-data');
    const sftpPort = await freePort();
    const server = await startServe(
      { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dataDir, SFTP_PORT: String(sftpPort), SFTP_HOST: '127.0.0.1', HTTP_PORT: String(await freePort()) },
      ['--role', 'sftp'],
    );
    try {
      const harness = { db } as unknown as Harness;
      await addSystem(harness, USER, [ed]);
      const r = await sftpBatch(sftpPort, USER, ed.file, ['pwd', 'ls']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/OUT/);
      const logs = server.output();
      expect(logs).toMatch(/"hostKey":"ssh-ed25519","fingerprint":"SHA256:[A-Za-z0-9+/]{43}"/);
      expect(logs).toMatch(/"hostKey":"ssh-rsa","fingerprint":"SHA256:/);
      expect(logs).toMatch(/"nativeCrypto":true/);
      expect((await stat(join(dataDir, 'hostkeys', 'ssh_host_ed25519_key'))).mode & 0o777).toBe(0o600);

      // `filudveksling system disable` ends the system's open session on the running server.
      const session = await connect(sftpPort, USER, ed.privateKey);
      const ended = new Promise<void>((resolve) => session.client.on('close', () => resolve()));
      const disable = await cli(['system', 'disable', USER], { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dataDir });
      expect(disable.code).toBe(0);
      await ended;
      const refused = await sftpBatch(sftpPort, USER, ed.file, ['pwd']);
      expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
    } finally {
      await server.stop();
      await db.drop();
    }
  });

  it('takes the SFTP limits from the environment and stops with exit code 2 on a bad one', async () => {
    expect(loadConfig({ SFTP_BAN_SECONDS: '60', SFTP_MAX_LOGIN_FAILURES: '0', SFTP_MAX_HANDLES: '64' }).sftp).toMatchObject({ banMs: 60_000, maxFailures: 0, maxHandlesPerSession: 64, loginGraceMs: 30_000 });
    expect([loadConfig({}).sftp.fsync, loadConfig({ SFTP_FSYNC: 'on-request' }).sftp.fsync]).toEqual(['always', 'on-request']);
    expect(() => loadConfig({ SFTP_FSYNC: 'never' })).toThrow(/SFTP_FSYNC: "never" — it accepts "always" or "on-request" \(default "always"\)/);
    expect(() => loadConfig({ SFTP_LOGIN_GRACE_SECONDS: '0' })).toThrow(/SFTP_LOGIN_GRACE_SECONDS: "0" — it accepts a whole number of seconds ≥ 1 \(default 30\)/);
    const db = await createTestDatabase('sftpenv');
    try {
      const r = await cli(['serve', '--role', 'sftp'], {
        DATABASE_URL: db.url,
        FILUDVEKSLING_DATA: join(h.keysDir, 'env-data'),
        SFTP_PORT: String(await freePort()),
        HTTP_PORT: String(await freePort()),
        SFTP_MAX_HANDLES: 'lots',
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/SFTP_MAX_HANDLES: "lots"/);
    } finally {
      await db.drop();
    }
  });
});
