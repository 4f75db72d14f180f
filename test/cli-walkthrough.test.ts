import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The ```sh blocks of README.md's "Five-minute walkthrough" section, in order. */
function walkthroughCommands(): string {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf('\n## Five-minute walkthrough\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThan(0);
  return blocks.join('\n');
}

describe('README five-minute walkthrough', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase('walk');
    dir = mkdtempSync(join(tmpdir(), 'fu-walk-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs verbatim, and leaves two systems, an approved InfRef and a route', async () => {
    const bin = join(dir, 'bin');
    const work = join(dir, 'work');
    mkdirSync(bin);
    mkdirSync(work);
    writeFileSync(join(bin, 'filudveksling'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'filudveksling'), 0o755);
    const script = `set -euo pipefail\n${walkthroughCommands()}`;
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', script],
        { cwd: work, env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, DATABASE_URL: db.url, FILUDVEKSLING_DATA: join(dir, 'data') } },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect({ code: result.code, stderr: result.code ? result.stderr : "" }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^FagsystemdefineredeDataRefGDPR1_1$/m);
    expect(result.stdout).toMatch(/Approved the GDPR declaration for FagsystemdefineredeDataRefGDPR1_1/);
    expect(result.stdout).toMatch(/afsender-a\s+1\s+modtager-b\s+0751 Aarhus/);
    expect(existsSync(join(work, 'afsender-a_key.pub'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'homes', 'modtager-b', 'IN'))).toBe(true);

    const { rows } = await db.pool.query(
      `SELECT s.username AS sender, r2.username AS recipient, r2.uuid::text AS uuid, i.status, d.status AS declaration, a.kommunekode
         FROM routes r JOIN systems s ON s.id = r.sender_system_id JOIN systems r2 ON r2.id = r.recipient_system_id
         JOIN infrefs i ON i.number = r.infref_number AND i.owner_system_id = s.id JOIN gdpr_declarations d ON d.infref_id = i.id
         JOIN authorities a ON a.id = r.authority_id`,
    );
    expect(rows).toEqual([{ sender: 'afsender-a', recipient: 'modtager-b', uuid: '3f2c6d1e-8b7a-4c5d-9e0f-112233445566', status: 'active', declaration: 'approved', kommunekode: '0751' }]);
  });
});
