/**
 * Open handles are bounded per system and per process, so one system cannot exhaust the
 * descriptors the database, the queue and HTTP need (issue 12 item 4).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { startServe } from './helpers/cli.js';
import { createWorld, inbox, receiptOutcome, routed, send, waitForFile, type World } from './helpers/router-world.js';
import { addSystem, connect, makeKey, p, SFTP_STATUS, startHarness, type Connected, type Harness } from './helpers/sftp-harness.js';

/** Opens `path` until refused; the handles and the refusal. */
async function openUntilRefused(sftp: SFTPWrapper, path: string, most = 5000): Promise<{ handles: Buffer[]; refusal: { code: number; message: string } }> {
  const handles: Buffer[] = [];
  for (let i = 0; i < most; i++) {
    try {
      handles.push(await p.open(sftp, path, 'r'));
    } catch (err) {
      const e = err as Error & { code?: number };
      return { handles, refusal: { code: e.code ?? -1, message: e.message } };
    }
  }
  throw new Error(`${most} handles opened and none refused`);
}

describe('handles per system, across its sessions', () => {
  let h: Harness;
  const sessions: Connected[] = [];
  beforeAll(async () => {
    h = await startHarness('sftpfdsystem', { maxHandlesPerSession: 30, maxHandlesPerSystem: 40 });
  });
  afterAll(async () => {
    for (const s of sessions) s.end();
    await h.stop();
  });

  it('refuses the system its 41st handle over two sessions with a clear status; another system still opens', async () => {
    const [a, b] = [await makeKey(h.keysDir, 'ed25519'), await makeKey(h.keysDir, 'ed25519')];
    await addSystem(h, 'system-a', [a]);
    await addSystem(h, 'system-b', [b]);
    for (const user of ['system-a', 'system-b']) {
      await mkdir(join(h.dataDir, 'homes', user, 'IN'), { recursive: true });
      await writeFile(join(h.dataDir, 'homes', user, 'IN', 'x.bin'), 'x');
    }
    const a1 = await connect(h.port, 'system-a', a.privateKey);
    const a2 = await connect(h.port, 'system-a', a.privateKey);
    const b1 = await connect(h.port, 'system-b', b.privateKey);
    sessions.push(a1, a2, b1);
    const first = await openUntilRefused(a1.sftp, '/IN/x.bin');
    expect([first.handles.length, first.refusal.code]).toEqual([30, SFTP_STATUS.FAILURE]);
    expect(first.refusal.message).toMatch(/Too many open handles \(30\) in this session/);
    const second = await openUntilRefused(a2.sftp, '/IN/x.bin');
    expect([second.handles.length, second.refusal.code]).toEqual([10, SFTP_STATUS.FAILURE]);
    expect(second.refusal.message).toMatch(/Too many open handles \(40\) for system-a across its sessions/);
    expect((await openUntilRefused(b1.sftp, '/IN/x.bin')).handles).toHaveLength(30);
    // A handle given back can be taken again, by any session of the system.
    await p.close(a1.sftp, first.handles[0]!);
    const again = await openUntilRefused(a2.sftp, '/IN/x.bin');
    expect(again.handles).toHaveLength(1);
  });
});

describe('a descriptor reserve for the database, the queue and HTTP', () => {
  let w: World;
  let serve: Awaited<ReturnType<typeof startServe>>;
  const clients: ssh2.Client[] = [];
  beforeAll(async () => {
    w = await createWorld('sftpfdserve');
    // A node with few descriptors, as a container with a low hard limit.
    serve = await startServe(w.env, [], 60_000, ['prlimit', '--nofile=1200:1200', '--']);
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end();
    await serve?.stop();
    await w?.close();
  });

  it('one system opening handles on 2 connections x 10 channels is refused cleanly; routing, /readyz and /metrics keep working', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const port = Number(w.env.SFTP_PORT);
    await mkdir(inbox(w, recipient.username), { recursive: true });
    await writeFile(inbox(w, recipient.username, 'x.bin'), 'x');
    const channels: SFTPWrapper[] = [];
    for (let c = 0; c < 2; c++) {
      const conn = await connect(port, recipient.username, recipient.privateKey);
      clients.push(conn.client);
      channels.push(conn.sftp);
      for (let i = 1; i < 10; i++) channels.push(await new Promise<SFTPWrapper>((res, rej) => conn.client.sftp((e, s) => (e ? rej(e) : res(s)))));
    }
    const results = await Promise.all(channels.map((s) => openUntilRefused(s, '/IN/x.bin', 1100)));
    const opened = results.reduce((n, r) => n + r.handles.length, 0);
    const refusals = results.map((r) => r.refusal);
    // 1200 descriptors, 512 kept back: the rest (less the sockets) for handles, then a clear refusal.
    expect(opened).toBeGreaterThan(500);
    expect(opened).toBeLessThanOrEqual(1200 - 512);
    for (const r of refusals) expect(r).toEqual({ code: SFTP_STATUS.FAILURE, message: expect.stringMatching(/too many files open right now/) });
    // While they are held: readiness, metrics and a whole routing round (database, queue, files).
    const http = `http://127.0.0.1:${w.env.HTTP_PORT}`;
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    expect((await fetch(`${http}/metrics`)).status).toBe(200);
    const sent = await send(w, { sender, infref });
    expect(receiptOutcome(await waitForFile(sent.receiptPath, 30_000))).toBe('SUCCESS');
    expect(serve.output()).not.toMatch(/EMFILE/);
  });
});
