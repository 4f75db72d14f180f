import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { generateKeyPair, migrated } from './helpers/factories.js';

/** Issue 12 item 9 (CLI parts): read-only commands take no --by; hints quote values with spaces. */
let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, env);

beforeAll(async () => {
  db = await createTestDatabase('clihint');
  dir = mkdtempSync(join(tmpdir(), 'fu-clihint-'));
  env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dir };
  await migrated(db.pool);
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('--by (who makes a change)', () => {
  const readOnly = [['system', 'list'], ['system', 'show'], ['infref', 'list'], ['infref', 'show'], ['infref', 'document'], ['route', 'list'], ['agreement', 'list'], ['vendor', 'list'], ['authority', 'list'], ['transfer', 'list'], ['transfer', 'show'], ['status'], ['serve'], ['usage', 'invoice'], ['price', 'list'], ['user', 'list']];
  const changing = [['agreement', 'terminate'], ['agreement', 'withdraw'], ['infref', 'import'], ['route', 'add'], ['system', 'register'], ['vendor', 'add'], ['transfer', 'retry'], ['price', 'set'], ['user', 'invite']];

  it('is not offered by commands that only read', async () => {
    const helps = await Promise.all(readOnly.map((c) => run(...c, '--help')));
    expect(readOnly.filter((_, i) => /--by\b/.test(helps[i]!.stdout))).toEqual([]);
    const given = await run('system', 'list', '--by', 'jens');
    expect({ code: given.code, stderr: given.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/unknown option '--by'/) });
  });

  it('is offered by every command that changes state, and usage keeps --by as its grouping', async () => {
    const helps = await Promise.all(changing.map((c) => run(...c, '--help')));
    expect(changing.filter((_, i) => !/--by <operator>/.test(helps[i]!.stdout))).toEqual([]);
    expect((await run('usage', '--help')).stdout).toMatch(/--by <[^>]+>.*(system|authority|infref)/s);
  });
});

describe('hints', () => {
  it('quote a value with spaces the way it is typed', async () => {
    const added = await run('vendor', 'add', 'Fagsystem A/S');
    expect(added.stdout).toBe(`Added vendor 'Fagsystem A/S'. Register its systems with 'filudveksling system register <user> --vendor "Fagsystem A/S" --ssh-key <file.pub>'.\n`);
    const key = join(dir, 'k.pub');
    writeFileSync(key, generateKeyPair().publicKey);
    const unknown = await run('system', 'register', 'x1', '--vendor', 'Kommune "Data" A/S', '--ssh-key', key);
    expect(unknown.stderr).toMatch(/add it with 'filudveksling vendor add "Kommune \\"Data\\" A\/S"'/);
    const plain = await run('vendor', 'add', 'Acme');
    expect(plain.stdout).toMatch(/--vendor Acme --ssh-key/);
  });
});
