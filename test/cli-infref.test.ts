import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { infrefForRouting } from '../src/infref/infref-for-routing.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { migrated, registerSystem } from './helpers/factories.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, env);
const N = (n: number, v = 1) => `FagsystemdefineredeDataRefGDPR${n}_${v}`;

beforeAll(async () => {
  db = await createTestDatabase('cliinf');
  dir = mkdtempSync(join(tmpdir(), 'fu-cliinf-'));
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dir };
  await migrated(db.pool);
  await registerSystem(db.pool, { username: 'afsender-a', dataDir: dir });
  await registerSystem(db.pool, { username: 'afsender-b', dataDir: dir });
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('infref issue', () => {
  it('prints the new InfRef alone on stdout, with a note on stderr, and audits it', async () => {
    const r = await run('infref', 'issue', '--owner', 'afsender-a', '--title', 'Borgere i Aarhus', '--by', 'alice');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${N(1)}\n`);
    expect(r.stderr).toMatch(/Issued FagsystemdefineredeDataRefGDPR1_1 to 'afsender-a'.*--received/);
    const audit = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'infref' AND entity_id = $1", [N(1)]);
    expect(audit.rows).toEqual([{ actor: 'alice', action: 'infref.issue' }]);
  });

  it('gives twenty concurrent issuers twenty different consecutive numbers', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run('infref', 'issue', '--owner', i % 2 ? 'afsender-a' : 'afsender-b', '--json')));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    const numbers = results.map((r) => r.json().number as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(results.every((r) => r.json().name === N(r.json().number))).toBe(true);
    const { rows } = await db.pool.query('SELECT last_number FROM infref_counter');
    expect(rows[0].last_number).toBe(21);
  }, 120_000);

  it('refuses an unknown owner, and leaves no gap in the numbers', async () => {
    const r = await run('infref', 'issue', '--owner', 'ghost');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown owner system 'ghost'/);
    const next = await run('infref', 'issue', '--owner', 'afsender-a');
    expect(next.stdout.trim()).toBe(N(22));
  });
});

describe('GDPR declarations and versions', () => {
  it('goes received → approved, with a document fingerprint, and only then can carry data', async () => {
    const name = (await run('infref', 'issue', '--owner', 'afsender-a')).stdout.trim();
    const ref = { number: Number(/GDPR(\d+)_/.exec(name)![1]), version: 1 };
    expect(await infrefForRouting(db.pool, ref)).toMatchObject({ status: 'active', declarationStatus: null });

    const doc = join(dir, 'erklaering.pdf');
    writeFileSync(doc, 'signed declaration');
    const received = await run('infref', 'declaration', name, '--received', '--document', doc, '--json', '--by', 'dora');
    expect(received.code).toBe(0);
    expect(received.json()).toMatchObject({ status: 'pending', documentName: 'erklaering.pdf', documentSha256: createHash('sha256').update('signed declaration').digest('hex'), receivedBy: 'dora' });
    expect(await infrefForRouting(db.pool, ref)).toMatchObject({ declarationStatus: 'pending' });

    const again = await run('infref', 'declaration', name, '--received');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already received .* awaits a decision/);

    const approved = await run('infref', 'declaration', name, '--approve', '--by', 'erik');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Approved the GDPR declaration for .*: it may carry data now\./);
    expect(await infrefForRouting(db.pool, ref)).toMatchObject({ status: 'active', declarationStatus: 'approved', ownerSystemId: expect.any(Number) });

    const [twice, rejectApproved] = await Promise.all([run('infref', 'declaration', name, '--approve'), run('infref', 'declaration', name, '--reject', '--reason', 'x')]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already approved/);
    expect(rejectApproved.code).toBe(1);
    expect(rejectApproved.stderr).toMatch(/revoke it with 'filudveksling infref revoke/);

    const trail = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'declaration' AND entity_id = $1 ORDER BY id", [name]);
    expect(trail.rows).toEqual([
      { actor: 'dora', action: 'declaration.receive' },
      { actor: 'erik', action: 'declaration.approve' },
    ]);
  });

  it('refuses to approve a rejected declaration until a corrected one is received', async () => {
    const name = (await run('infref', 'issue', '--owner', 'afsender-b')).stdout.trim();
    const none = await run('infref', 'declaration', name, '--approve');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No declaration was received for .*--received/);
    await run('infref', 'declaration', name, '--received');
    const noReason = await run('infref', 'declaration', name, '--reject');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const rejected = await run('infref', 'declaration', name, '--reject', '--reason', 'Databehandleraftale mangler');
    expect(rejected.code).toBe(0);
    const approve = await run('infref', 'declaration', name, '--approve');
    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(/was rejected \(Databehandleraftale mangler\); it cannot be approved now\. Record the corrected declaration with --received/);
    expect((await run('infref', 'declaration', name, '--received')).code).toBe(0);
    expect((await run('infref', 'declaration', name, '--approve')).code).toBe(0);
  });

  it('keeps the old version working until the new version is approved, then supersedes it', async () => {
    const v1 = (await run('infref', 'issue', '--owner', 'afsender-a', '--title', 'Skat')).stdout.trim();
    const n = Number(/GDPR(\d+)_/.exec(v1)![1]);
    await run('infref', 'declaration', v1, '--received');
    await run('infref', 'declaration', v1, '--approve');

    const made = await run('infref', 'new-version', v1);
    expect(made.code).toBe(0);
    expect(made.stdout).toBe(`${N(n, 2)}\n`);
    expect(made.stderr).toMatch(/keeps carrying data until the declaration of .*_2 is approved; routes for InfRef \d+ carry over/);
    expect(await infrefForRouting(db.pool, { number: n, version: 1 })).toMatchObject({ status: 'active', declarationStatus: 'approved' });
    expect(await infrefForRouting(db.pool, { number: n, version: 2 })).toMatchObject({ status: 'active', declarationStatus: null });

    // Receiving v2's declaration does not change which version is the latest: the refusal runs beside it.
    const [notLatest] = await Promise.all([run('infref', 'new-version', v1), run('infref', 'declaration', N(n, 2), '--received')]);
    expect(notLatest.code).toBe(1);
    expect(notLatest.stderr).toMatch(/is not the latest version .*_2 is/);

    const approved = await run('infref', 'declaration', N(n, 2), '--approve', '--json');
    expect(approved.json().superseded).toEqual([v1]);
    expect(await infrefForRouting(db.pool, { number: n, version: 1 })).toMatchObject({ status: 'superseded' });
    expect(await infrefForRouting(db.pool, { number: n, version: 2 })).toMatchObject({ status: 'active', declarationStatus: 'approved' });

    const [show, human] = await Promise.all([run('infref', 'show', N(n, 2), '--json'), run('infref', 'show', v1)]);
    expect(show.json()).toMatchObject({ name: N(n, 2), title: 'Skat', owner: 'afsender-a', versions: [{ name: v1, status: 'superseded' }, { name: N(n, 2), status: 'active' }] });
    expect(human.stdout).toMatch(/Status\s+superseded \(superseded by FagsystemdefineredeDataRefGDPR\d+_2\)/);
  });

  it('revokes a version with a reason, refusing a repeat and further changes', async () => {
    const name = (await run('infref', 'issue', '--owner', 'afsender-b')).stdout.trim();
    const noReason = await run('infref', 'revoke', name);
    expect(noReason.code).toBe(2);
    const r = await run('infref', 'revoke', name, '--reason', 'Fagsystemet er lukket', '--by', 'frida');
    expect(r.code).toBe(0);
    // Three refusals of a revoked InfRef, side by side (none changes anything).
    const [again, version, declaration] = await Promise.all([
      run('infref', 'revoke', name, '--reason', 'x'),
      run('infref', 'new-version', name),
      run('infref', 'declaration', name, '--received'),
    ]);
    expect(await infrefForRouting(db.pool, { number: Number(/GDPR(\d+)_/.exec(name)![1]), version: 1 })).toMatchObject({ status: 'revoked' });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already revoked \(Fagsystemet er lukket\)/);
    expect(version.code).toBe(1);
    expect(version.stderr).toMatch(/is revoked .* gets no new version/);
    expect(declaration.code).toBe(1);
    expect(declaration.stderr).toMatch(/is revoked/);
  });

  it('lists InfRefs as a table or JSON, optionally by owner', async () => {
    const [all, b, human] = await Promise.all([run('infref', 'list', '--json'), run('infref', 'list', '--owner', 'afsender-b', '--json'), run('infref', 'list', '--owner', 'afsender-a')]);
    expect(all.json().length).toBeGreaterThan(20);
    expect(b.json().every((i: { owner: string }) => i.owner === 'afsender-b')).toBe(true);
    expect(human.stdout).toMatch(/^INFREF\s+OWNER\s+STATUS\s+DECLARATION\s+TITLE\n-+/);
    expect(human.stdout).toMatch(/FagsystemdefineredeDataRefGDPR1_1\s+afsender-a\s+active\s+-\s+Borgere i Aarhus/);
  });

  it('refuses InfRefs of the wrong form (exit 2) and unknown ones (exit 1), saying what to do', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['infref', 'show', 'FagsystemdefineredeDataRefGDPR01_1'], 2, /is not an InfRef: write it as FagsystemdefineredeDataRefGDPR<n>_<v>/],
      [['infref', 'show', 'GDPR12_1'], 2, /is not an InfRef/],
      [['infref', 'declaration', 'FagsystemdefineredeDataRefGDPR12', '--received'], 2, /is not an InfRef/],
      [['infref', 'show', N(9999)], 1, /Unknown InfRef FagsystemdefineredeDataRefGDPR9999_1: no InfRef has number 9999/],
      [['infref', 'show', N(1, 7)], 1, /exists only up to version 1/],
      [['infref', 'new-version', N(9999)], 1, /Unknown InfRef/],
      [['infref', 'revoke', N(9999), '--reason', 'x'], 1, /Unknown InfRef/],
      [['infref', 'declaration', N(1)], 2, /exactly one of --received, --approve or --reject/],
      [['infref', 'declaration', N(1), '--approve', '--reject'], 2, /exactly one of/],
      [['infref', 'declaration', N(1), '--approve', '--document', 'x.pdf'], 2, /--document goes with --received/],
      [['infref', 'declaration', N(1), '--received', '--document', join(dir, 'nope.pdf')], 1, /Cannot read the declaration document/],
      [['infref', 'list', '--owner', 'ghost'], 1, /Unknown owner system 'ghost'/],
      [['infref', 'issue'], 2, /--owner/],
    ];
    const [json, ...results] = await Promise.all([run('infref', 'show', N(9999), '--json'), ...cases.map(([args]) => run(...args))]);
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(message) });
    });
    expect(json.json()).toEqual({ error: expect.stringMatching(/Unknown InfRef/), exitCode: 1 });
  });
});
