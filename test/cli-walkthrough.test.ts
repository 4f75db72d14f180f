import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { listTree, schemaErrors } from './helpers/router-world.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'README.md');

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

/** Ends a process group (the walkthrough's shell and the server it started); quiet if it is gone. */
function killGroup(pid: number | undefined): void {
  try {
    if (pid) process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone: the walkthrough stopped its server */
  }
}

describe('README five-minute walkthrough', () => {
  let db: TestDatabase;
  let dir: string;
  let group: number | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('walk');
    // A new folder inside the checkout, as README says: there `npx filudveksling` finds the checkout's CLI.
    dir = mkdtempSync(join(ROOT, '.walkthrough-'));
  });
  afterAll(async () => {
    killGroup(group);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs verbatim: two systems, an approved InfRef and a route; a file sent over SFTP, delivered, fetched and deleted', async () => {
    const work = dir;
    const script = `set -euo pipefail\n${walkthroughCommands()}`;
    // The walkthrough starts the server itself (`filudveksling serve &`), here on free ports; it runs in
    // its own process group, so whatever the script leaves running is stopped at the end.
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      SFTP_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      PORTAL_PORT: String(await freePort()),
    };
    const child = spawn('bash', ['-c', script], { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    group = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A walkthrough that hangs (a server that never gets ready, a transfer never routed) is ended, so
    // the failure below shows its output rather than a bare timeout.
    const hung = setTimeout(() => killGroup(group), 150_000);
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    clearTimeout(hung);
    killGroup(group);
    const result = { code, stdout, stderr };
    const serveLog = existsSync(join(work, 'serve.log')) ? readFileSync(join(work, 'serve.log'), 'utf8') : '';
    expect({ code: result.code, stderr: result.code ? `${result.stderr}\n--- serve.log ---\n${serveLog}` : '' }).toEqual({ code: 0, stderr: '' });
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

    // The file went over SFTP and came back unchanged; trigger, receipt and metadata are KOMBIT-valid.
    const file = 'FAGSYSX_0751_borgere_20261122.csv';
    expect(result.stdout).toMatch(new RegExp(`delivered\\s.*afsender-a\\s+modtager-b\\s+${file}`));
    expect(result.stdout).toMatch(/<Message>SUCCESS<\/Message>/);
    expect(result.stdout).toContain(`modtager-b received ${file} unchanged`);
    const trigger = readFileSync(join(work, `${file}.trigger`), 'utf8');
    expect(trigger).toContain('<InfRef>FagsystemdefineredeDataRefGDPR1_1</InfRef>');
    expect(trigger).toContain('<SenderIt-system>cfcf2769-9a1f-4d3b-b6d2-ddfb3a2f9dd6</SenderIt-system>');
    expect(trigger).toContain('<RecipientIt-system>3f2c6d1e-8b7a-4c5d-9e0f-112233445566</RecipientIt-system>');
    const receipt = readFileSync(join(work, `${file}.sftpreceipt`), 'utf8');
    const metadata = readFileSync(join(work, 'modtager-b', `${file}.metadata`), 'utf8');
    expect(await schemaErrors(trigger)).toBe('');
    expect(await schemaErrors(receipt)).toBe('');
    expect(await schemaErrors(metadata)).toBe('');
    expect(metadata).toContain('<Recipients>modtager-b</Recipients>');
    expect(readFileSync(join(work, 'modtager-b', file))).toEqual(readFileSync(join(work, file)));

    // Deleted over SFTP: nothing is left in either home; the server logged its host key and stopped.
    const homes = join(dir, 'data', 'homes');
    expect(await listTree(homes)).toEqual([]);
    expect(readdirSync(join(homes, 'modtager-b', 'IN'))).toEqual(['0751']);
    const transfers = await db.pool.query('SELECT status, file_name FROM transfers');
    expect(transfers.rows).toEqual([{ status: 'delivered', file_name: file }]);
    expect(serveLog).toMatch(/SSH host key ssh-ed25519 SHA256:/);
    // sftp trusted the server's own host key on first use and kept it in ./known_hosts.
    const hostKey = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'data', 'hostkeys', 'ssh_host_ed25519_key')]).toString().trim().split(' ').slice(0, 2).join(' ');
    expect(readFileSync(join(work, 'known_hosts'), 'utf8')).toContain(hostKey);
  }, 180_000);
});
