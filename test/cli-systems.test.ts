import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { waitUntil } from './helpers/wait.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, env);

const keygenArgs = (file: string, type: 'rsa' | 'ed25519' | 'ecdsa', comment: string) => ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', comment, '-f', file];
function keygen(name: string, type: 'rsa' | 'ed25519' | 'ecdsa', comment = `${name}@test`): string {
  const file = join(dir, name);
  execFileSync('ssh-keygen', keygenArgs(file, type, comment));
  return file;
}
/** keygen, without blocking: key pairs for independent steps are made side by side. */
async function keygenAsync(name: string, type: 'rsa' | 'ed25519' | 'ecdsa', comment = `${name}@test`): Promise<string> {
  const file = join(dir, name);
  await promisify(execFile)('ssh-keygen', keygenArgs(file, type, comment));
  return file;
}
const sshKeygenFingerprint = (pub: string) => execFileSync('ssh-keygen', ['-lf', pub]).toString().split(' ')[1];

beforeAll(async () => {
  db = await createTestDatabase('clisys');
  dir = mkdtempSync(join(tmpdir(), 'fu-clisys-'));
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: join(dir, 'data') };
  expect((await run('vendor', 'add', 'Acme IT', '--cvr', '55133018')).code).toBe(0);
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vendor', () => {
  it('adds and lists vendors, refusing a duplicate name and a bad CVR', async () => {
    // Independent calls (two refusals change nothing the lists show) run side by side.
    const [list, human, dup, badCvr] = await Promise.all([
      run('vendor', 'list', '--json'),
      run('vendor', 'list'),
      run('vendor', 'add', 'Acme IT'),
      run('vendor', 'add', 'Other', '--cvr', '12345678'),
    ]);
    expect(list.json()).toEqual([expect.objectContaining({ name: 'Acme IT', cvr: '55133018', systems: expect.any(Number) })]);
    expect(human.stdout).toMatch(/^VENDOR\s+CVR\s+SYSTEMS\s+ADDED\n-+/);

    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/vendor named 'Acme IT' already exists/);

    expect(badCvr.code).toBe(2);
    expect(badCvr.stderr).toMatch(/'12345678' is not a valid CVR number/);
  });
});

describe('system register', () => {
  it('registers RSA, ed25519 and ECDSA keys with the fingerprint ssh-keygen prints, and makes the home', async () => {
    const types = ['rsa', 'ed25519', 'ecdsa'] as const;
    const registered = await Promise.all(
      types.map(async (type) => {
        const key = await keygenAsync(`reg-${type}`, type);
        return { type, key, r: await run('system', 'register', `sys-${type}`, '--vendor', 'Acme IT', '--ssh-key', `${key}.pub`, '--json', '--by', 'alice') };
      }),
    );
    for (const { type, key, r } of registered) {
      expect({ type, code: r.code, stderr: r.stderr }).toEqual({ type, code: 0, stderr: '' });
      const out = r.json();
      expect(out.key.fingerprint).toBe(sshKeygenFingerprint(`${key}.pub`));
      expect(out.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(existsSync(join(env.FILUDVEKSLING_DATA!, 'homes', `sys-${type}`, 'OUT'))).toBe(true);
      expect(existsSync(join(env.FILUDVEKSLING_DATA!, 'homes', `sys-${type}`, 'IN'))).toBe(true);
      const { rows } = await db.pool.query('SELECT k.key_type, k.public_key, k.comment FROM system_keys k JOIN systems s ON s.id = k.system_id WHERE s.username = $1', [`sys-${type}`]);
      const pub = execFileSync('cat', [`${key}.pub`]).toString().trim().split(' ');
      expect(rows).toEqual([{ key_type: pub[0], public_key: `${pub[0]} ${pub[1]}`, comment: `reg-${type}@test` }]);
    }
    const audit = await db.pool.query("SELECT actor, action FROM audit_log WHERE action = 'system.register' ORDER BY id");
    expect(audit.rows).toEqual([0, 1, 2].map(() => ({ actor: 'alice', action: 'system.register' })));
  });

  it('takes a lower-case --uuid, --inbox flat and --metadata legacy, and shows them', async () => {
    const key = keygen('flat', 'ed25519');
    const uuid = '3f2c6d1e-8b7a-4c5d-9e0f-112233445566';
    const r = await run('system', 'register', 'modtager-flat', '--vendor', 'Acme IT', '--ssh-key', `${key}.pub`, '--uuid', uuid, '--inbox', 'flat', '--metadata', 'legacy');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Registered system 'modtager-flat' \(UUID 3f2c6d1e-8b7a-4c5d-9e0f-112233445566/);
    const [show, human, list] = await Promise.all([run('system', 'show', 'modtager-flat', '--json'), run('system', 'show', 'modtager-flat'), run('system', 'list')]);
    expect(show.json()).toMatchObject({ username: 'modtager-flat', uuid, inboxLayout: 'flat', metadataFormat: 'legacy', enabled: true, vendor: 'Acme IT' });
    expect(human.stdout).toMatch(/Inbox\s+flat/);
    expect(human.stdout).toMatch(/TYPE\s+FINGERPRINT/);
    expect(list.stdout).toMatch(/^USER\s+UUID\s+VENDOR\s+ENABLED\s+KEYS\s+INBOX\s+METADATA$/m);
    expect(list.stdout).toMatch(/modtager-flat\s+3f2c6d1e-8b7a-4c5d-9e0f-112233445566\s+Acme IT\s+yes\s+1\s+flat\s+legacy/);
  });

  it('refuses bad registrations with a message that says what to do, and stores nothing', async () => {
    const good = `${keygen('refusals', 'ed25519')}.pub`;
    const priv = join(dir, 'refusals');
    writeFileSync(join(dir, 'garbage.pub'), 'ssh-rsa not-base64-at-all comment\n');
    const encrypted = join(dir, 'encrypted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', encrypted]);
    const two = join(dir, 'two.pub');
    writeFileSync(two, `${execFileSync('cat', [good]).toString()}${execFileSync('cat', [`${encrypted}.pub`]).toString()}`);
    const cases: Array<[string[], number, RegExp]> = [
      [['system', 'register', 'x1', '--vendor', 'Nobody', '--ssh-key', good], 1, /Unknown vendor 'Nobody'.*vendor add/],
      [['system', 'register', 'sys-rsa', '--vendor', 'Acme IT', '--ssh-key', good], 1, /system named 'sys-rsa' is already registered/],
      [['system', 'register', 'x2', '--vendor', 'Acme IT', '--ssh-key', priv], 1, /is a PRIVATE key: it was not stored.*\.pub/],
      [['system', 'register', 'x2b', '--vendor', 'Acme IT', '--ssh-key', encrypted], 1, /is a PRIVATE key: it was not stored/],
      [['system', 'register', 'x2c', '--vendor', 'Acme IT', '--ssh-key', two], 1, /holds 2 lines; give one SSH public key per file/],
      [['system', 'register', 'x3', '--vendor', 'Acme IT', '--ssh-key', join(dir, 'missing.pub')], 1, /Cannot read the SSH public key file .*missing\.pub.*ENOENT/],
      [['system', 'register', 'x4', '--vendor', 'Acme IT', '--ssh-key', join(dir, 'garbage.pub')], 1, /is not an SSH public key/],
      [['system', 'register', 'x5', '--vendor', 'Acme IT', '--ssh-key', good, '--uuid', '3F2C6D1E-8B7A-4C5D-9E0F-112233445599'], 2, /not a lower-case UUID.*lower case: 3f2c6d1e-8b7a-4c5d-9e0f-112233445599/],
      [['system', 'register', 'x6', '--vendor', 'Acme IT', '--ssh-key', good, '--uuid', 'not-a-uuid'], 2, /--uuid 'not-a-uuid' is not a lower-case UUID/],
      [['system', 'register', 'x7', '--vendor', 'Acme IT', '--ssh-key', good, '--uuid', '3f2c6d1e-8b7a-4c5d-9e0f-112233445566'], 1, /already belongs to system 'modtager-flat'/],
      [['system', 'register', 'a/b', '--vendor', 'Acme IT', '--ssh-key', good], 2, /'a\/b' cannot be a system user name: it contains '\/'/],
      [['system', 'register', '..', '--vendor', 'Acme IT', '--ssh-key', good], 2, /'\.' and '\.\.' are not folder names/],
      [['system', 'register', '.hidden', '--vendor', 'Acme IT', '--ssh-key', good], 2, /starts with '\.'/],
      [['system', 'register', 'a\\b', '--vendor', 'Acme IT', '--ssh-key', good], 2, /contains '\/' or '\\'/],
      [['system', 'register', 'x'.repeat(256), '--vendor', 'Acme IT', '--ssh-key', good], 2, /longer than 255/],
      [['system', 'register', 'x8', '--vendor', 'Acme IT', '--ssh-key', good, '--inbox', 'nested'], 2, /--inbox 'nested' is not a layout/],
      [['system', 'register', 'x9', '--vendor', 'Acme IT', '--ssh-key', good, '--metadata', 'xml'], 2, /--metadata 'xml' is not a format/],
      [['system', 'register', 'x10', '--vendor', 'Acme IT'], 2, /--ssh-key/],
      [['system', 'show', 'nobody'], 1, /Unknown system 'nobody'.*system list/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    });
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM systems WHERE username LIKE 'x%' OR username IN ('a/b', '..', '.hidden')");
    expect(rows[0].n).toBe(0);
    const stored = await db.pool.query("SELECT count(*)::int AS n FROM system_keys WHERE public_key LIKE '%PRIVATE%'");
    expect(stored.rows[0].n).toBe(0);
  });

  it('lets only one of three simultaneous registrations of a name succeed; the other is refused clearly', async () => {
    const key = `${keygen('race', 'ed25519')}.pub`;
    const results = await Promise.all([1, 2, 3].map(() => run('system', 'register', 'racer', '--vendor', 'Acme IT', '--ssh-key', key)));
    expect(results.map((r) => r.code).sort()).toEqual([0, 1, 1]);
    for (const r of results.filter((x) => x.code === 1)) expect(r.stderr).toMatch(/^A system named 'racer' (is already|was just) registered/);
  });

  it('accepts a 255-character user name and one with unicode', async () => {
    const key = `${keygen('long', 'ed25519')}.pub`;
    const [long, unicode] = await Promise.all([run('system', 'register', 'y'.repeat(255), '--vendor', 'Acme IT', '--ssh-key', key), run('system', 'register', 'ærø-kommune_sys.1', '--vendor', 'Acme IT', '--ssh-key', key)]);
    expect(long.code).toBe(0);
    expect(unicode.code).toBe(0);
  });
});

describe('keys and enabling, with notifications to SFTP nodes', () => {
  let listener: pg.Client;
  const heard: string[] = [];
  beforeAll(async () => {
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query('LISTEN filudveksling_system_changed');
  });
  afterAll(async () => listener.end());

  const notified = (entry: string) => waitUntil(`the notification ${entry}`, () => heard.includes(entry), 5000);

  it('rotates keys: several active, removal sets removed_at, each change notifies', async () => {
    const [first, second] = await Promise.all([keygenAsync('rot1', 'rsa'), keygenAsync('rot2', 'ed25519')]);
    expect((await run('system', 'register', 'rotator', '--vendor', 'Acme IT', '--ssh-key', `${first}.pub`)).code).toBe(0);
    const add = await run('system', 'key', 'add', 'rotator', '--ssh-key', `${second}.pub`, '--by', 'bob');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/it has 2 active key\(s\)/);
    await notified('filudveksling_system_changed:rotator');

    // Refusals that change nothing run beside the next step.
    const [again, neither, unknown] = await Promise.all([
      run('system', 'key', 'add', 'rotator', '--ssh-key', `${second}.pub`),
      run('system', 'key', 'remove', 'rotator'),
      run('system', 'key', 'add', 'ghost', '--ssh-key', `${second}.pub`),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has the key SHA256:/);

    heard.length = 0;
    const remove = await run('system', 'key', 'remove', 'rotator', '--ssh-key', `${first}.pub`, '--json');
    expect(remove.code).toBe(0);
    expect(remove.json()).toMatchObject({ fingerprint: sshKeygenFingerprint(`${first}.pub`), activeKeys: 1 });
    await notified('filudveksling_system_changed:rotator');
    const keys = await db.pool.query(
      "SELECT fingerprint, removed_at IS NOT NULL AS removed FROM system_keys k JOIN systems s ON s.id = k.system_id WHERE s.username = 'rotator' ORDER BY k.id",
    );
    expect(keys.rows).toEqual([
      { fingerprint: sshKeygenFingerprint(`${first}.pub`), removed: true },
      { fingerprint: sshKeygenFingerprint(`${second}.pub`), removed: false },
    ]);

    const removedTwice = await run('system', 'key', 'remove', 'rotator', '--fingerprint', sshKeygenFingerprint(`${first}.pub`)!);
    expect(removedTwice.code).toBe(1);
    expect(removedTwice.stderr).toMatch(/has no active key SHA256:.*its active keys: SHA256:/);
    const last = await run('system', 'key', 'remove', 'rotator', '--fingerprint', sshKeygenFingerprint(`${second}.pub`)!);
    expect(last.stdout).toMatch(/no active key left and cannot log in/);
    expect(neither.code).toBe(2);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown system 'ghost'/);
    const audit = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'system_key' AND after->>'system' = 'rotator' AND action = 'system.key.add' ORDER BY id");
    expect(audit.rows).toHaveLength(2);
    expect(audit.rows[1]).toEqual({ actor: 'bob', action: 'system.key.add' });
  });

  it('disables and enables a system, notifying in the same transaction, refusing a repeat', async () => {
    heard.length = 0;
    const [off, ghost] = await Promise.all([run('system', 'disable', 'sys-rsa', '--by', 'carol'), run('system', 'enable', 'ghost')]);
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/Disabled 'sys-rsa': it cannot log in, and its open sessions end\./);
    await notified('filudveksling_system_changed:sys-rsa');
    expect((await db.pool.query("SELECT enabled FROM systems WHERE username = 'sys-rsa'")).rows[0].enabled).toBe(false);
    const twice = await run('system', 'disable', 'sys-rsa');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already disabled/);
    const on = await run('system', 'enable', 'sys-rsa', '--json');
    expect(on.json()).toEqual({ system: 'sys-rsa', enabled: true });
    const trail = await db.pool.query(
      "SELECT actor, action FROM audit_log WHERE entity = 'system' AND action IN ('system.disable', 'system.enable') ORDER BY id",
    );
    expect(trail.rows).toEqual([
      { actor: 'carol', action: 'system.disable' },
      { actor: expect.any(String), action: 'system.enable' },
    ]);
    expect(ghost.code).toBe(1);
  });
});
