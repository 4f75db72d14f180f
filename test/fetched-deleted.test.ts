import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { connect, p, sftpBatch } from './helpers/sftp-harness.js';
import { AARHUS, createWorld, receiptOutcome, routed, send, waitForFile, xmlValue, type World } from './helpers/router-world.js';
import type { TestSystem } from './helpers/factories.js';

/** SPEC §6: a delivery records when its recipient first read the whole data file, and when it deleted it. */
describe('fetched and deleted deliveries', () => {
  let w: World;
  let recipient: TestSystem;
  let sender: TestSystem;
  let infref: string;

  beforeAll(async () => {
    w = await createWorld('fetched', 'postgres', { NOTIFY_UNFETCHED_HOURS: '1' });
    ({ sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir }).then((r) => ({ ...r, infref: r.infref.name })));
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  async function deliver(content: Buffer): Promise<{ id: string; name: string }> {
    const sent = await send(w, { sender, infref, content });
    const receipt = await waitForFile(sent.receiptPath);
    expect(receiptOutcome(receipt)).toBe('SUCCESS');
    return { id: xmlValue(receipt, 'FileTransferUUID')!, name: sent.fileName };
  }
  const show = async (id: string) => {
    const r = await cli(['transfer', 'show', id, '--json'], w.env);
    expect(r.code).toBe(0);
    return r.json().deliveries[0];
  };
  const status = async () => (await cli(['status', '--json'], w.env)).json();

  it('a partial read or the metadata alone is not a fetch; two handles reading a half each are', async () => {
    const content = Buffer.alloc(200_000, 7);
    const { id, name } = await deliver(content);
    const path = `/IN/${AARHUS.kommunekode}/${name}`;
    expect((await status()).inboxes).toEqual([{ system: recipient.username, files: 1, oldestSeconds: expect.any(Number) }]);

    const c = await connect(Number(w.env.SFTP_PORT), recipient.username, recipient.privateKey);
    try {
      const meta = await p.open(c.sftp, `${path}.metadata`, 'r');
      await p.read(c.sftp, meta, 65_536, 0);
      await p.close(c.sftp, meta);
      const first = await p.open(c.sftp, path, 'r');
      for (let pos = 0; pos < 100_000; pos += 25_000) await p.read(c.sftp, first, 25_000, pos);
      await p.close(c.sftp, first);
      const d = await show(id);
      expect(d).toMatchObject({ recipient: recipient.username, placedAt: expect.any(String), fetchedAt: null, deletedAt: null });

      // The second half through another handle: now every byte has been read.
      const second = await p.open(c.sftp, path, 'r');
      for (let pos = 100_000; pos < 200_000; pos += 25_000) await p.read(c.sftp, second, 25_000, pos);
      await p.close(c.sftp, second);
    } finally {
      c.end();
    }
    const fetched = await waitForDelivery(id, (d) => d.fetchedAt !== null);
    expect(fetched).toMatchObject({ fetchedByNode: expect.stringContaining(':'), deletedAt: null });
    expect((await status()).inboxes).toEqual([]);
  });

  it("OpenSSH's get then rm: transfer show names when and where it was fetched and deleted", async () => {
    const { id, name } = await deliver(Buffer.from('cpr;navn\n'.repeat(5000)));
    const keyFile = join(w.dataDir, 'recipient-key');
    await writeFile(keyFile, recipient.privateKey, { mode: 0o600 });
    const r = await sftpBatch(Number(w.env.SFTP_PORT), recipient.username, keyFile, [
      `cd /IN/${AARHUS.kommunekode}`,
      `get ${name} ${join(w.dataDir, 'downloaded.csv')}`,
      `get ${name}.metadata ${join(w.dataDir, 'downloaded.metadata')}`,
      `rm ${name}`,
      `rm ${name}.metadata`,
    ]);
    expect(r.code).toBe(0);
    const d = await waitForDelivery(id, (x) => x.fetchedAt !== null && x.deletedAt !== null);
    expect(Date.parse(d.fetchedAt)).toBeLessThanOrEqual(Date.parse(d.deletedAt));
    expect(d.deletedByNode).toBe(d.fetchedByNode);

    const human = await cli(['transfer', 'show', id], w.env);
    expect(human.stdout).toMatch(/FETCHED\s+DELETED/);
    expect(human.stdout).toContain(`(${d.fetchedByNode})`);
    const trail = await w.db.pool.query("SELECT actor, action FROM audit_log WHERE entity = 'transfer' AND entity_id = $1 AND action LIKE 'delivery.%' ORDER BY id", [id]);
    expect(trail.rows).toEqual([
      { actor: recipient.username, action: 'delivery.fetched' },
      { actor: recipient.username, action: 'delivery.deleted' },
    ]);
  });

  it('a recipient that does not fetch is falling behind after NOTIFY_UNFETCHED_HOURS', async () => {
    const { id } = await deliver(Buffer.from('late'));
    await w.db.pool.query("UPDATE deliveries SET placed_at = now() - interval '2 hours' WHERE transfer_id = $1", [id]);
    const s = await status();
    expect(s.fallingBehind).toEqual([recipient.username]);
    const human = await cli(['status'], w.env);
    expect(human.stdout).toMatch(new RegExp(`${recipient.username}\\s+1\\s+2 h\\s+FALLING BEHIND`));
    const metrics = await (await fetch(`http://127.0.0.1:${w.env.HTTP_PORT}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^filudveksling_inbox_unfetched_files\\{system="${recipient.username}"\\} 1$`, 'm'));
  });

  async function waitForDelivery(id: string, ok: (d: Record<string, any>) => boolean) {
    const { waitUntil } = await import('./helpers/wait.js');
    return waitUntil(`delivery of ${id}`, async () => {
      const d = await show(id);
      return ok(d) ? d : undefined;
    });
  }
});
