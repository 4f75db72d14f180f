/**
 * Paramiko (the library KOMBIT's own client code is built on) and pipelining clients against the
 * real server over TCP (issue 12, items 1 and 2).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addSystem, connect, makeKey, p, run, startHarness, type Harness, type TestKey } from './helpers/sftp-harness.js';

const USER = 'afsender-a';
let h: Harness;
let rsa: TestKey;
let other: TestKey;
let work: string;

const LIMITS = { maxFailures: 1000, maxAuthTries: 4 };

beforeAll(async () => {
  h = await startHarness('sftpparamiko', LIMITS);
  rsa = await makeKey(h.keysDir, 'rsa');
  other = await makeKey(h.keysDir, 'rsa'); // never registered
  await addSystem(h, USER, [rsa]);
  work = join(h.keysDir, 'work');
  await mkdir(work);
  for (const k of [rsa, other]) await chmod(k.file, 0o600);
  // PEM: Paramiko's SSHClient tries a refused key file again as DSS, which fails hard on the
  // OpenSSH format of an RSA key (a Paramiko quirk, not the server's).
  await run('ssh-keygen', ['-q', '-p', '-m', 'PEM', '-N', '', '-f', other.file]);
});
afterAll(async () => h.stop());

/** Runs a Python script with Debian's python3 (and its paramiko); its stdout, or a rejection with stderr. */
function python(script: string, args: string[], timeoutMs = 240_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

const PRELUDE = `
import sys, hashlib, socket, paramiko
port, user = int(sys.argv[1]), sys.argv[2]
def transport():
    t = paramiko.Transport(('127.0.0.1', port))
    t.banner_timeout = 20
    return t
`;

describe('Paramiko SFTPClient', () => {
  it('puts and gets 50 MB five times each, byte for byte (replies come in request order)', async () => {
    const size = 50 * 1024 * 1024;
    const inbox = join(h.dataDir, 'homes', USER, 'IN', '0751');
    await mkdir(inbox, { recursive: true });
    const script = `${PRELUDE}
import os
key, work, inbox = sys.argv[3], sys.argv[4], sys.argv[5]
data = os.urandom(${size})
want = hashlib.sha256(data).hexdigest()
with open(work + '/big.bin', 'wb') as f: f.write(data)
with open(inbox + '/big.bin', 'wb') as f: f.write(data)
t = transport()
t.connect(username=user, pkey=paramiko.RSAKey.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
s.get_channel().settimeout(30)   # a reply that never comes fails the run instead of hanging it
for i in range(5):
    s.put(work + '/big.bin', '/OUT/big-%d.bin' % i)
for i in range(5):
    s.get('/IN/0751/big.bin', work + '/got-%d.bin' % i)
    with open(work + '/got-%d.bin' % i, 'rb') as f:
        got = hashlib.sha256(f.read()).hexdigest()
    os.remove(work + '/got-%d.bin' % i)
    assert got == want, 'download %d differs' % i
t.close()
print(want)
`;
    const want = (await python(script, [String(h.port), USER, rsa.file, work, inbox])).trim();
    const { createHash } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    for (let i = 0; i < 5; i++) {
      const stored = await readFile(join(h.dataDir, 'homes', USER, 'OUT', `big-${i}.bin`));
      expect(createHash('sha256').update(stored).digest('hex')).toBe(want);
    }
  }, 300_000);
});

describe('pipelined requests on one handle', () => {
  it('answers 64 pipelined writes (past the first 64 KiB) in request order, and the FSTAT and CLOSE after them', async () => {
    const c = await connect(h.port, USER, rsa.privateKey);
    try {
      for (let round = 0; round < 4; round++) {
        const handle = await p.open(c.sftp, `/OUT/pipelined-${round}.bin`, 'w');
        const chunk = 128 * 1024;
        const answered: string[] = [];
        const all: Array<Promise<void>> = [];
        // ssh2's client sends each request at once (no waiting): 64 writes in flight, then FSTAT and CLOSE.
        for (let i = 0; i < 64; i++) {
          const data = Buffer.alloc(chunk, i);
          all.push(
            new Promise<void>((res, rej) =>
              c.sftp.write(handle, data, 0, chunk, i * chunk, (err) => {
                answered.push(`write ${i}`);
                return err ? rej(err) : res();
              }),
            ),
          );
        }
        all.push(
          new Promise<void>((res, rej) =>
            c.sftp.fstat(handle, (err, st) => {
              answered.push(`fstat ${st?.size}`);
              return err ? rej(err) : res();
            }),
          ),
        );
        all.push(
          new Promise<void>((res, rej) =>
            c.sftp.close(handle, (err) => {
              answered.push('close');
              return err ? rej(err) : res();
            }),
          ),
        );
        await Promise.all(all);
        expect(answered).toEqual([...Array.from({ length: 64 }, (_, i) => `write ${i}`), `fstat ${64 * chunk}`, 'close']);
      }
    } finally {
      c.end();
    }
  });

  it('answers pipelined reads of one handle in request order', async () => {
    const inbox = join(h.dataDir, 'homes', USER, 'IN', '0101');
    await mkdir(inbox, { recursive: true });
    const chunk = 128 * 1024;
    await writeFile(join(inbox, 'read.bin'), Buffer.alloc(64 * chunk, 7));
    const c = await connect(h.port, USER, rsa.privateKey);
    try {
      const handle = await p.open(c.sftp, '/IN/0101/read.bin', 'r');
      const answered: number[] = [];
      await Promise.all(
        Array.from(
          { length: 64 },
          (_, i) =>
            new Promise<void>((res, rej) =>
              c.sftp.read(handle, Buffer.alloc(chunk), 0, chunk, i * chunk, (err) => {
                answered.push(i);
                return err ? rej(err) : res();
              }),
            ),
        ),
      );
      await p.close(c.sftp, handle);
      expect(answered).toEqual(Array.from({ length: 64 }, (_, i) => i));
    } finally {
      c.end();
    }
  });
});

describe('several keys and methods on one connection (Paramiko requests ssh-userauth before each try)', () => {
  const login = `${PRELUDE}
import json
keys = json.loads(sys.argv[3])
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
try:
    c.connect('127.0.0.1', port=port, username=user, key_filename=keys, allow_agent=False, look_for_keys=False, timeout=20, banner_timeout=20, auth_timeout=20)
    s = c.open_sftp()
    print('logged in', s.normalize('.'))
except paramiko.AuthenticationException as e:
    print('refused', type(e).__name__)
except (paramiko.SSHException, EOFError, OSError) as e:
    print('ended', type(e).__name__, e)
finally:
    c.close()
`;

  it('SSHClient.connect logs in with an unregistered key first and the registered one second', async () => {
    expect((await python(login, [String(h.port), USER, JSON.stringify([other.file, rsa.file])])).trim()).toBe('logged in /');
  });

  it('a password try, then the key, logs in on the same connection', async () => {
    const script = `${PRELUDE}
t = transport()
t.start_client(timeout=20)
try:
    t.auth_password(user, 'not-a-password')
    print('password accepted?!')
except paramiko.BadAuthenticationType as e:
    print('password refused; allowed:', ','.join(e.allowed_types))
except paramiko.AuthenticationException as e:
    print('password refused', type(e).__name__)
t.auth_publickey(user, paramiko.RSAKey.from_private_key_file(sys.argv[3]))
print('logged in', paramiko.SFTPClient.from_transport(t).normalize('.'))
t.close()
`;
    expect((await python(script, [String(h.port), USER, rsa.file])).trim().split('\n')).toEqual(['password refused; allowed: publickey', 'logged in /']);
  });

  it('the per-connection attempt limit still ends the connection', async () => {
    // The unregistered key as many times as the limit allows tries, then the right one: too late.
    const keys = [...Array.from({ length: LIMITS.maxAuthTries }, () => other.file), rsa.file];
    const out = (await python(login, [String(h.port), USER, JSON.stringify(keys)])).trim();
    expect(out).not.toMatch(/^logged in/);
    expect(out).toMatch(/^(refused|ended) /);
  });
});
