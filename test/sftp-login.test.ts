import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { loadConfig } from '../src/config/config.js';
import { startSftpServer } from '../src/sftp/sftp-server.js';
import { nativeCryptoLoaded } from '../src/sftp/sftp-wire.js';
import { addKey, addSystem, connect, makeKey, p, run, SSH_OPTS, startHarness, tryLogin, type Harness, type TestKey } from './helpers/sftp-harness.js';
import { waitUntil } from './helpers/wait.js';

let h: Harness;
let ed: TestKey;
let rsa: TestKey;
let systemId: number;

const LIMITS = { maxFailures: 1000, loginGraceMs: 1000, maxUnauthenticatedPerAddress: 3, maxSessionsPerSystem: 2 };

beforeAll(async () => {
  h = await startHarness('sftplogin', LIMITS);
  ed = await makeKey(h.keysDir, 'ed25519');
  rsa = await makeKey(h.keysDir, 'rsa');
  systemId = await addSystem(h, 'afsender-a', [ed, rsa]);
});
afterAll(async () => h.stop());

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** The server sends its SSH identification only to a connection it admitted (and counts). */
const greeted = new WeakMap<Socket, Promise<void>>();

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    greeted.set(s, new Promise((hello) => s.once('data', () => hello())));
    s.resume(); // read (and drop) what the server says, so its close is seen
  });
}

describe('host keys', () => {
  it('creates ed25519 and RSA host keys once (mode 0600) and reuses them on the next start', async () => {
    for (const f of ['ssh_host_ed25519_key', 'ssh_host_rsa_key']) {
      expect((await stat(join(h.dataDir, 'hostkeys', f))).mode & 0o777).toBe(0o600);
    }
    expect(h.server.hostKeys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    const again = await startSftpServer({ config: loadConfig({ FILUDVEKSLING_DATA: h.dataDir, DATABASE_URL: h.db.url }), pool: h.db.pool, host: '127.0.0.1', port: 0 });
    expect(again.hostKeys.map((k) => k.fingerprint)).toEqual(h.server.hostKeys.map((k) => k.fingerprint));
    await again.stop();
  });

  it.each([['ssh-ed25519'], ['rsa-sha2-512'], ['rsa-sha2-256']])('presents the %s host key a client checks', async (algo) => {
    let seen = '';
    const result = await tryLogin(h.port, 'afsender-a', {
      privateKey: ed.privateKey,
      algorithms: { serverHostKey: [algo as ssh2.ServerHostKeyAlgorithm] },
      hostVerifier: (key: Buffer) => {
        seen = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return true;
      },
    });
    expect(result).toBe('ok');
    const type = algo === 'ssh-ed25519' ? 'ssh-ed25519' : 'ssh-rsa';
    expect(seen).toBe(h.server.hostKeys.find((k) => k.type === type)!.fingerprint);
  });

  it("runs with ssh2's native crypto addon loaded (else SFTP is many times slower)", () => {
    expect(nativeCryptoLoaded()).toBe(true);
    expect(h.server.nativeCrypto).toBe(true);
  });
});

describe('algorithms', () => {
  it.each([
    ['CBC cipher', { cipher: ['aes128-cbc', 'aes256-cbc'] }],
    ['SHA-1 key exchange', { kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'] }],
    ['group exchange', { kex: ['diffie-hellman-group-exchange-sha256'] }],
    ['SHA-1 MAC', { cipher: ['aes128-ctr'], hmac: ['hmac-sha1'] }],
    ['compression', { compress: ['zlib@openssh.com', 'zlib'] }],
    ['ssh-rsa (SHA-1) host key', { serverHostKey: ['ssh-rsa'] }],
  ])('refuses a client that only offers %s', async (_what, algorithms) => {
    const result = await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey, algorithms: algorithms as ssh2.AlgorithmList });
    expect(result).toMatch(/no matching|handshake failed/i);
  });

  it('offers aes128-gcm@openssh.com first, ed25519 host key first, and works with each offered cipher', async () => {
    for (const cipher of ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes256-ctr']) {
      expect(await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey, algorithms: { cipher: [cipher as ssh2.CipherAlgorithm] } })).toBe('ok');
    }
    const r = await run('ssh', ['-vv', '-i', ed.file, '-p', String(h.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-s', 'afsender-a@127.0.0.1', 'sftp'], '');
    const server = r.stderr.slice(r.stderr.indexOf('peer server KEXINIT proposal'));
    expect(server).toMatch(/ciphers ctos: aes128-gcm@openssh\.com,aes256-gcm@openssh\.com,chacha20-poly1305@openssh\.com,aes128-ctr,aes192-ctr,aes256-ctr\r?\n/);
    expect(server).toMatch(/KEX algorithms: curve25519-sha256,curve25519-sha256@libssh\.org,kex-strict-s-v00@openssh\.com\r?\n/);
    expect(server).toMatch(/MACs ctos: hmac-sha2-256-etm@openssh\.com,hmac-sha2-512-etm@openssh\.com,hmac-sha2-256,hmac-sha2-512\r?\n/);
    expect(server).toMatch(/compression ctos: none\r?\n/);
    // ssh2 would add ssh-rsa (SHA-1) for the RSA host key; the server takes it out of its offer.
    expect(server).toMatch(/host key algorithms: ssh-ed25519,rsa-sha2-512,rsa-sha2-256\r?\n/);
  });
});

describe('ssh-audit', () => {
  it('finds nothing to fail (and warns only of the non-ETM MACs kept for libssh2 1.10 and kex-strict)', async () => {
    const r = await run('ssh-audit', ['-n', '-p', String(h.port), '127.0.0.1']);
    expect(r.stdout).toMatch(/\(kex\) curve25519-sha256/);
    const fails = r.stdout.split('\n').filter((l) => l.includes('[fail]'));
    expect(fails).toEqual([]);
    const warns = r.stdout.split('\n').filter((l) => l.includes('[warn]'));
    expect(warns.some((l) => /hmac-sha2-256 /.test(l))).toBe(true); // the non-ETM MACs kept for libssh2 1.10
    expect(warns.filter((l) => !/hmac-sha2-(256|512) |kex-strict-s-v00@openssh\.com/.test(l))).toEqual([]);
  });

  it('offers the NIST-curve key exchanges only with SFTP_NIST_KEX=on, for clients without curve25519', async () => {
    const nist = await startHarness('sftpnist', {}, {}, { nistKex: true });
    try {
      const r = await run('ssh-audit', ['-n', '-p', String(nist.port), '127.0.0.1']);
      const fails = r.stdout.split('\n').filter((l) => l.includes('[fail]'));
      expect(fails.length).toBe(3);
      for (const line of fails) expect(line).toMatch(/^\(kex\) ecdh-sha2-nistp(256|384|521) /);
      expect(await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey, algorithms: { kex: ['ecdh-sha2-nistp256'] } })).not.toBe('ok');
    } finally {
      await nist.stop();
    }
  });
});

describe('login', () => {
  it('accepts the RSA and the ed25519 key of the system (ssh2 client and OpenSSH)', async () => {
    expect(await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey })).toBe('ok');
    expect(await tryLogin(h.port, 'afsender-a', { privateKey: rsa.privateKey })).toBe('ok');
    for (const k of [ed, rsa]) {
      const r = await run('sftp', ['-b', '-', '-i', k.file, '-P', String(h.port), ...SSH_OPTS, 'afsender-a@127.0.0.1'], 'pwd\n');
      expect(r.stdout).toMatch(/Remote working directory: \//);
      expect(r.code).toBe(0);
    }
  });

  it('answers an unknown user and a wrong key the same way', async () => {
    const stranger = await makeKey(h.keysDir, 'ed25519');
    const wrongKey = await tryLogin(h.port, 'afsender-a', { privateKey: stranger.privateKey });
    const unknownUser = await tryLogin(h.port, 'nobody-here', { privateKey: ed.privateKey });
    expect(wrongKey).toBe(unknownUser);
    expect(wrongKey).toMatch(/authentication methods failed/);
    const a = await run('sftp', ['-b', '-', '-i', stranger.file, '-P', String(h.port), ...SSH_OPTS, 'afsender-a@127.0.0.1'], 'pwd\n');
    const b = await run('sftp', ['-b', '-', '-i', ed.file, '-P', String(h.port), ...SSH_OPTS, 'nobody-here@127.0.0.1'], 'pwd\n');
    expect(a.stderr.replace(/afsender-a/g, 'U')).toBe(b.stderr.replace(/nobody-here/g, 'U'));
    expect(a.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('refuses password and keyboard-interactive without ever prompting, and offers only publickey', async () => {
    let prompted = false;
    const pw = await tryLogin(h.port, 'afsender-a', { password: 'secret' });
    const kbd = await tryLogin(h.port, 'afsender-a', {
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'] as never,
    });
    expect(pw).toMatch(/authentication methods failed/);
    expect(kbd).toMatch(/authentication methods failed/);
    const client = new ssh2.Client();
    client.on('keyboard-interactive', () => (prompted = true));
    const r = await run('ssh', ['-p', String(h.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive', 'afsender-a@127.0.0.1', 'true']);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(prompted).toBe(false);
  });

  it('refuses ssh-rsa (SHA-1) signatures; the same RSA key signs with rsa-sha2-256/512', async () => {
    const r = await run('sftp', ['-b', '-', '-i', rsa.file, '-P', String(h.port), ...SSH_OPTS, '-o', 'PubkeyAcceptedAlgorithms=ssh-rsa', 'afsender-a@127.0.0.1'], 'pwd\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const ok = await run('sftp', ['-b', '-', '-i', rsa.file, '-P', String(h.port), ...SSH_OPTS, '-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-256', 'afsender-a@127.0.0.1'], 'pwd\n');
    expect(ok.code).toBe(0);
  });

  it('caps the sessions one system holds at once', async () => {
    const a = await connect(h.port, 'afsender-a', ed.privateKey);
    const b = await connect(h.port, 'afsender-a', ed.privateKey);
    expect(await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey })).toMatch(/authentication methods failed/);
    a.end();
    await waitUntil('a session slot to be free again', async () => (await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey })) === 'ok');
    b.end();
  });

  it('closes a connection that does not log in within the grace time', async () => {
    const s = await rawConnect(h.port);
    s.write('SSH-2.0-SlowClient\r\n');
    expect(await closedWithin(s, 3000)).toBe(true);
  });

  it('caps unauthenticated connections per address', async () => {
    const idle = await Promise.all([rawConnect(h.port), rawConnect(h.port), rawConnect(h.port)]);
    await Promise.all(idle.map((s) => greeted.get(s)));
    const fourth = await rawConnect(h.port);
    expect(await closedWithin(fourth, 1000)).toBe(true);
    for (const s of idle) s.destroy();
    await waitUntil('the address to be let in again', async () => (await tryLogin(h.port, 'afsender-a', { privateKey: ed.privateKey })) === 'ok');
  });
});

describe('disabling a system and removing keys', () => {
  it('ends the open sessions of a system disabled in the database (NOTIFY), and refuses new logins', async () => {
    const other = await makeKey(h.keysDir, 'ed25519');
    await addSystem(h, 'modtager-b', [other]);
    const s = await connect(h.port, 'modtager-b', other.privateKey);
    await p.realpath(s.sftp, '.');
    const closed = new Promise<void>((resolve) => s.client.on('close', () => resolve()));
    await h.db.pool.query("UPDATE systems SET enabled = false WHERE username = 'modtager-b'");
    await h.db.pool.query("SELECT pg_notify('filudveksling_system_changed', 'modtager-b')");
    await closed;
    expect(await tryLogin(h.port, 'modtager-b', { privateKey: other.privateKey })).toMatch(/authentication methods failed/);
    await h.db.pool.query("UPDATE systems SET enabled = true WHERE username = 'modtager-b'");
    expect(await tryLogin(h.port, 'modtager-b', { privateKey: other.privateKey })).toBe('ok');
  });

  it('ends only the sessions that logged in with a removed key (rotation keeps the new key working)', async () => {
    const fresh = await makeKey(h.keysDir, 'rsa');
    await addKey(h, systemId, fresh);
    const oldSession = await connect(h.port, 'afsender-a', rsa.privateKey);
    const newSession = await connect(h.port, 'afsender-a', fresh.privateKey);
    const oldClosed = new Promise<void>((resolve) => oldSession.client.on('close', () => resolve()));
    await h.db.pool.query('UPDATE system_keys SET removed_at = now() WHERE fingerprint = $1', [rsa.fingerprint]);
    await h.db.pool.query("SELECT pg_notify('filudveksling_system_changed', 'afsender-a')");
    await oldClosed;
    expect(await p.realpath(newSession.sftp, '.')).toBe('/');
    newSession.end();
    expect(await tryLogin(h.port, 'afsender-a', { privateKey: rsa.privateKey })).toMatch(/authentication methods failed/);
  });
});

describe('brute force', () => {
  it('refuses an address for a while after repeated failed logins, then lets it in again', async () => {
    // The login guard's clock is the test's: the ban runs out when the test says so, not after a sleep.
    let now = Date.parse('2026-11-28T12:00:00Z');
    const BAN_MS = 15 * 60_000;
    const guarded = await startHarness('sftpban', { maxFailures: 3, failureWindowMs: 10 * 60_000, banMs: BAN_MS, now: () => now });
    try {
      await addSystem(guarded, 'afsender-a', [ed]);
      const stranger = await makeKey(h.keysDir, 'ed25519');
      for (let i = 0; i < 3; i++) {
        expect(await tryLogin(guarded.port, 'afsender-a', { privateKey: stranger.privateKey })).toMatch(/authentication methods failed/);
      }
      // The third failure counts once the server has seen that connection end; from then on the
      // address is turned away at the door: a new connection is closed without a greeting.
      await waitUntil('the address to be banned', async () => {
        const s = await rawConnect(guarded.port);
        const refused = await closedWithin(s, 500);
        s.destroy();
        return refused;
      });
      // Even the right key is refused while the address is banned, up to the last millisecond.
      now += BAN_MS - 1;
      expect(await tryLogin(guarded.port, 'afsender-a', { privateKey: ed.privateKey })).toMatch(/Connection lost before handshake|ECONNRESET/);
      now += 1;
      expect(await tryLogin(guarded.port, 'afsender-a', { privateKey: ed.privateKey })).toBe('ok');
    } finally {
      await guarded.stop();
    }
  });
});
