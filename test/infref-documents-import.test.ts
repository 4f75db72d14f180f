import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiveDeclarationDocument } from '../src/infref/declaration.js';
import { MAX_DOCUMENT_BYTES } from '../src/infref/declaration-document.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { issueInfRef, migrated, registerSystem } from './helpers/factories.js';

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, env);
const N = (n: number, v = 1) => `FagsystemdefineredeDataRefGDPR${n}_${v}`;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  db = await createTestDatabase('infdoc');
  dir = mkdtempSync(join(tmpdir(), 'fu-infdoc-'));
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dir };
  await migrated(db.pool);
  await registerSystem(db.pool, { username: 'fag-a', dataDir: dir });
  await registerSystem(db.pool, { username: 'fag-b', dataDir: dir });
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Issue 9 item 6: the signed declaration is kept whole (≤ 20 MiB) with name, type, size and SHA-256. */
describe('GDPR declaration documents', () => {
  it('keeps an uploaded document whole and records the declaration as received; an operator reads it back', async () => {
    const { name } = await issueInfRef(db.pool, 'fag-a');
    const data = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300_000, 7)]);
    // A browser may send a whole path, and a name may carry a right-to-left override.
    const d = await receiveDeclarationDocument(db.pool, name, { name: 'C:\\fakepath\\erkl\u202eæring.pdf', contentType: 'application/pdf', data }, 'lev@fagsystem.dk');
    expect(d).toMatchObject({ infref: name, status: 'pending', documentName: 'erklæring.pdf', documentType: 'application/pdf', documentSize: data.length, documentSha256: sha(data), receivedBy: 'lev@fagsystem.dk' });
    const trail = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'declaration' AND entity_id = $1", [name]);
    expect(trail.rows).toEqual([{ actor: 'lev@fagsystem.dk', action: 'declaration.receive' }]);

    const output = join(dir, 'out.pdf');
    const read = await run('infref', 'document', name, '--output', output, '--json');
    expect(read.json()).toMatchObject({ infref: name, name: 'erklæring.pdf', contentType: 'application/pdf', size: data.length, sha256: sha(data), uploadedBy: 'lev@fagsystem.dk' });
    expect(sha(readFileSync(output))).toBe(sha(data));
    const again = await run('infref', 'document', name, '--output', output);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 2, stderr: `--output '${output}' already exists; give a new file name.\n` });
  });

  it('takes the CLI document through the same function, with its size and type', async () => {
    const { name } = await issueInfRef(db.pool, 'fag-a');
    const file = join(dir, 'signed.pdf');
    writeFileSync(file, 'signed declaration');
    const r = await run('infref', 'declaration', name, '--received', '--document', file, '--json');
    expect(r.json()).toMatchObject({ status: 'pending', documentName: 'signed.pdf', documentType: 'application/pdf', documentSize: 18, documentSha256: sha('signed declaration') });
    const { rows } = await db.pool.query('SELECT d.content FROM declaration_documents d JOIN gdpr_declarations g ON g.document_id = d.id JOIN infrefs i ON i.id = g.infref_id WHERE i.number = $1', [Number(/GDPR(\d+)_/.exec(name)![1])]);
    expect(rows[0].content.toString()).toBe('signed declaration');
  });

  it('refuses a document over 20 MiB or empty, naming it, and records nothing', async () => {
    const { name } = await issueInfRef(db.pool, 'fag-a');
    const big = join(dir, 'big.pdf');
    writeFileSync(big, '');
    truncateSync(big, MAX_DOCUMENT_BYTES + 1);
    const empty = join(dir, 'empty.pdf');
    writeFileSync(empty, '');
    const [tooBig, none, noDocNeeded] = await Promise.all([
      run('infref', 'declaration', name, '--received', '--document', big),
      run('infref', 'declaration', name, '--received', '--document', empty),
      run('infref', 'document', name, '--output', join(dir, 'x')),
    ]);
    expect({ code: tooBig.code, stderr: tooBig.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/The declaration document '.*big\.pdf' is 20\.1 MiB; the limit is 20 MiB/) });
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 2, stderr: "The declaration document 'empty.pdf' is empty; give the signed declaration.\n" });
    expect(noDocNeeded.stderr).toMatch(/no declaration was received|has no document/i);
    await expect(receiveDeclarationDocument(db.pool, name, { name: 'big.pdf', data: Buffer.alloc(MAX_DOCUMENT_BYTES + 1) }, 'x')).rejects.toThrow(/is 20\.1 MiB; the limit is 20 MiB/);
    // Exactly 20 MiB is kept.
    const max = await receiveDeclarationDocument(db.pool, name, { name: 'max.bin', data: Buffer.alloc(MAX_DOCUMENT_BYTES, 1) }, 'x');
    expect(max).toMatchObject({ documentSize: MAX_DOCUMENT_BYTES, documentType: 'application/octet-stream' });
  });
});

/** Issue 12 item 10: InfRefs KOMBIT already issued keep their numbers; issue continues above the highest. */
describe('infref import', () => {
  it('registers any number and version, and issue continues above the highest', async () => {
    const before = await run('infref', 'issue', '--owner', 'fag-a');
    const issued = Number(/GDPR(\d+)_1/.exec(before.stdout)![1]);
    const imp = await run('infref', 'import', N(1203, 3), '--owner', 'fag-b', '--title', 'Sager fra KOMBIT', '--by', 'ops');
    expect({ code: imp.code, stdout: imp.stdout }).toEqual({ code: 0, stdout: `${N(1203, 3)}\n` });
    expect(imp.stderr).toMatch(/Registered FagsystemdefineredeDataRefGDPR1203_3 for 'fag-b'.*--received/);
    // A lower number (below the counter) and another version of an imported number work too.
    expect((await run('infref', 'import', N(issued + 1), '--owner', 'fag-a')).code).toBe(0);
    expect((await run('infref', 'import', N(1203, 1), '--owner', 'fag-b')).code).toBe(0);
    const next = await run('infref', 'issue', '--owner', 'fag-a');
    expect(next.stdout).toBe(`${N(1204)}\n`);
    const shown = (await run('infref', 'show', N(1203, 3), '--json')).json();
    expect(shown).toMatchObject({ owner: 'fag-b', title: 'Sager fra KOMBIT', status: 'active', declarationStatus: null });
    expect(shown.versions.map((v: { name: string }) => v.name)).toEqual([N(1203, 1), N(1203, 3)]);
    const trail = await db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'infref' AND entity_id = $1", [N(1203, 3)]);
    expect(trail.rows).toEqual([{ actor: 'ops', action: 'infref.import' }]);
  });

  it('refuses a version already registered, a number owned by another system, and the wrong form', async () => {
    await run('infref', 'import', N(5000), '--owner', 'fag-a');
    const cases: Array<[string[], number, string | RegExp]> = [
      [['infref', 'import', N(5000), '--owner', 'fag-a'], 1, `${N(5000)} is already registered (owner 'fag-a'); see 'filudveksling infref show ${N(5000)}'.\n`],
      [['infref', 'import', N(5000, 2), '--owner', 'fag-b'], 1, `InfRef number 5000 belongs to 'fag-a' (${N(5000)}), not to 'fag-b'; a number has one owner. Check the number, or give --owner fag-a.\n`],
      [['infref', 'import', 'FagsystemdefineredeDataRefGDPR0_1', '--owner', 'fag-a'], 2, /is not an InfRef: write it as FagsystemdefineredeDataRefGDPR<n>_<v>/],
      [['infref', 'import', 'FagsystemdefineredeDataRefGDPR12', '--owner', 'fag-a'], 2, /is not an InfRef/],
      [['infref', 'import', N(6000), '--owner', 'ghost'], 1, /Unknown owner system 'ghost'/],
      [['infref', 'import', N(6000)], 2, /--owner/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: typeof message === 'string' ? message : expect.stringMatching(message) });
    });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM infrefs WHERE number = 6000')).rows[0].n).toBe(0);
  });
});
