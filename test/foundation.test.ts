import { mkdtemp, readFile, rm } from 'node:fs/promises';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { socketDirFor } from '../src/db/embedded.js';

describe('configuration', () => {
  it('refuses a bad value with exit code 2, naming the setting and what it accepts', async () => {
    const r = await cli(['migrate'], { SFTP_PORT: 'abc', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SFTP_PORT/);
    expect(r.stderr).toMatch(/TCP port/);
  });

  it('refuses an unknown environment name', async () => {
    const r = await cli(['migrate'], { FILUDVEKSLING_ENV: 'prod' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FILUDVEKSLING_ENV.*"test" or "production"/);
  });

  it('refuses unknown commands as bad usage (exit 2)', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
  });
});

describe('migrations on a real PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase('found')));
  afterAll(async () => db.drop());

  it('applies all migrations once; a second run is a no-op', async () => {
    const first = await cli(['migrate', '--json'], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.json().applied.length).toBeGreaterThanOrEqual(2);
    const second = await cli(['migrate', '--json'], { DATABASE_URL: db.url });
    expect(second.json()).toEqual({ applied: [], alreadyApplied: first.json().applied.length });
    const { rows } = await db.pool.query('SELECT count(*)::int AS n, count(cvr)::int AS with_cvr FROM authorities WHERE kommunekode IS NOT NULL');
    expect(rows[0]).toEqual({ n: 98, with_cvr: 98 });
  });

  it('lets two migrate commands run at once without racing', async () => {
    const fresh = await createTestDatabase('race');
    try {
      const [a, b] = await Promise.all([cli(['migrate', '--json'], { DATABASE_URL: fresh.url }), cli(['migrate', '--json'], { DATABASE_URL: fresh.url })]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const applied = [a.json().applied.length, b.json().applied.length].sort();
      expect(applied[0]).toBe(0);
      expect(applied[1]).toBeGreaterThanOrEqual(2);
    } finally {
      await fresh.drop();
    }
  });

  it('keeps the audit log append-only', async () => {
    await db.pool.query("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('t', 'x', 'vendor', '1')");
    await expect(db.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(async () => (dataDir = await mkdtemp(join(tmpdir(), 'fu-embedded-'))));
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('starts, answers /healthz and /readyz, refuses a second server on the folder, stops, and keeps data on restart', async () => {
    const port = await freePort();
    const env = { FILUDVEKSLING_DATA: dataDir, HTTP_PORT: String(port), SFTP_PORT: String(await freePort()) };
    const first = await startServe(env, [], 120_000);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
    expect(ready.checks.database).toBe('ok');

    // The CLI finds the running server's database and writes through it.
    const mark = await cli(['migrate', '--json'], { FILUDVEKSLING_DATA: dataDir });
    expect(mark.code).toBe(0);

    // Everyone reaches it through its Unix socket in the data folder, not loopback TCP.
    const { url } = JSON.parse(await readFile(join(dataDir, 'run', 'database.json'), 'utf8'));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS clients, count(client_addr)::int AS over_tcp FROM pg_stat_activity WHERE backend_type = 'client backend'`);
    await client.end();
    expect(rows[0].clients).toBeGreaterThan(1);
    expect(rows[0].over_tcp).toBe(0);

    const second = await cli(['serve'], { ...env, HTTP_PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already running on the data folder/);

    expect(await first.stop('SIGTERM')).toBe(0);

    // No server now: the CLI starts one for the length of the command, and the data is still there.
    const again = await cli(['migrate', '--json'], { FILUDVEKSLING_DATA: dataDir });
    expect(again.code).toBe(0);
    expect(again.json().applied).toEqual([]);

    const restarted = await startServe(env, [], 120_000);
    expect(await restarted.stop('SIGINT')).toBe(0);
  }, 240_000);

  it("stops in order on a terminal's Ctrl-C, which signals the database server too", async () => {
    // A terminal's Ctrl-C sends SIGINT to the whole foreground process group: `npm start`, serve and
    // (unless it has a group of its own) the embedded PostgreSQL. setsid makes serve such a group.
    const port = await freePort();
    const env = { FILUDVEKSLING_DATA: dataDir, HTTP_PORT: String(port), SFTP_PORT: String(await freePort()) };
    const server = await startServe(env, [], 120_000, ['setsid']);
    process.kill(-server.child.pid!, 'SIGINT');
    expect(await server.exited).toBe(0);
    // Routing and maintenance finished on an open database; only then did serve stop it.
    const errors = server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    expect(errors).toEqual([]);
    expect(server.output()).toMatch(/embedded PostgreSQL stopped/);
  }, 240_000);

  it('falls back to TCP on 127.0.0.1 when the data folder is too deep for a socket path', () => {
    expect(socketDirFor('/srv/filudveksling')).toBe('/srv/filudveksling/run/db-socket');
    expect(socketDirFor(`/srv/${'x'.repeat(90)}`)).toBeUndefined();
    expect(socketDirFor('/srv/data, with comma')).toBeUndefined();
  });
});
