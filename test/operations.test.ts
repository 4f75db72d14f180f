import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

describe('operations: status and metrics', () => {
  let db: TestDatabase;
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startServe>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('ops');
    dataDir = await mkdtemp(join(tmpdir(), 'fu-ops-'));
    env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: dataDir, HTTP_PORT: String(await freePort()), SFTP_PORT: String(await freePort()), NOTIFY_UNFETCHED_HOURS: '1' };
    server = await startServe(env);
    // modtager-b has not fetched a file delivered two hours ago; one it fetched and one it deleted do not count.
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q("INSERT INTO vendors (name) VALUES ('v')");
    await q("INSERT INTO systems (username, uuid, vendor_id) VALUES ('afsender-a', gen_random_uuid(), 1), ('modtager-b', gen_random_uuid(), 1)");
    for (const [name, extra] of [['borgere.csv', ''], ['hentet.csv', ', fetched_at = now()'], ['slettet.csv', ', deleted_at = now()']] as const) {
      const id = randomUUID();
      await q("INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, status, received_at) VALUES ($1, 1, $2, $3, 1, 'delivered', now())", [id, `${name}.trigger`, name]);
      await q(`INSERT INTO deliveries (transfer_id, recipient_system_id, delivered_name, folder, status, placed_at) VALUES ($1, 2, $2, '0751', 'delivered', now() - interval '2 hours')`, [id, name]);
      if (extra) await q(`UPDATE deliveries SET status = status${extra} WHERE transfer_id = $1`, [id]);
    }
  });
  afterAll(async () => {
    await server?.stop();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the live node, the routing backlog and the recipient falling behind', async () => {
    const r = await cli(['status', '--json'], env);
    expect(r.code).toBe(0);
    const status = r.json();
    expect(status.nodes).toHaveLength(1);
    expect(status.nodes[0].role).toBe('all');
    expect(status.nodes[0].mailsNotices).toBe(false); // no SMTP_URL
    expect(status.queue).toEqual({ inFlight: 0, failed: 0, oldestSeconds: 0 });
    expect(status.inboxes).toEqual([{ system: 'modtager-b', files: 1, oldestSeconds: expect.any(Number) }]);
    expect(status.inboxes[0].oldestSeconds).toBeGreaterThanOrEqual(7200);
    expect(status.fallingBehind).toEqual(['modtager-b']);

    const human = await cli(['status'], env);
    expect(human.stdout).toMatch(/Nodes \(1 alive\)/);
    expect(human.stdout).toMatch(/ROLE +SESSIONS +MAILS NOTICES +STARTED/);
    expect(human.stdout).toMatch(/ all +0 +no +\d{4}-/);
    expect(human.stdout).toContain('No running node mails them: they stay in the outbox and are shown only in the portal. Set SMTP_URL on the nodes of role router (or all) and restart them.');
    expect(human.stdout).toMatch(/modtager-b\s+1\s+2 h\s+FALLING BEHIND/);
  });

  it('serves Prometheus metrics, including the age of the oldest unfetched file', async () => {
    const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toMatch(/^filudveksling_inbox_oldest_unfetched_seconds\{system="modtager-b"\} (\d+)$/m);
    expect(Number(/^filudveksling_inbox_oldest_unfetched_seconds\{system="modtager-b"\} (\d+)$/m.exec(body)![1])).toBeGreaterThanOrEqual(7200);
    expect(body).toMatch(/^filudveksling_queue_depth 0$/m);
    expect(body).toMatch(/^filudveksling_process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/# TYPE filudveksling_routing_latency_seconds histogram/);
  });

  it('says plainly when no node is running', async () => {
    await server.stop();
    const r = await cli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/none — no serve node has reported/);
  });
});
