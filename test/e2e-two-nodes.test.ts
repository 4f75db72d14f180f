import { randomBytes } from 'node:crypto';
import { freePort, startServe } from './helpers/cli.js';
import { routed, AARHUS, createWorld, inbox, listTree, out, receiptOutcome, send, type World } from './helpers/router-world.js';
import { waitUntil } from './helpers/wait.js';
import { readFile } from 'node:fs/promises';

/** SPEC §2 scale-out: two router nodes on one database, one queue and one data folder route each transfer once. */
describe('two nodes sharing database, queue and data folder', () => {
  let w: World;
  let second: Awaited<ReturnType<typeof startServe>> | undefined;
  beforeAll(async () => {
    w = await createWorld('twonode', 'redis');
    await w.start();
    second = await startServe({ ...w.env, HTTP_PORT: String(await freePort()), SFTP_PORT: String(await freePort()) }, ['--role', 'router']);
  }, 120_000);
  afterAll(async () => {
    await second?.stop();
    await w?.close();
  });

  it('routes 40 triggers dropped at once exactly once each', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => send(w, { sender, infref, fileName: `batch-${i}-${randomBytes(2).toString('hex')}.csv` })));
    for (const s of sent) {
      expect(receiptOutcome(await waitUntil(s.receiptPath, () => readFile(s.receiptPath, 'utf8').catch(() => undefined), 60_000))).toBe('SUCCESS');
    }
    const expected = sent.flatMap((s) => [`${AARHUS.kommunekode}/${s.fileName}`, `${AARHUS.kommunekode}/${s.fileName}.metadata`]).sort();
    expect(await listTree(inbox(w, recipient.username))).toEqual(expected);
    expect(await listTree(out(w, sender.username))).toEqual([]);
    const { rows } = await w.db.pool.query(`SELECT count(*)::int AS n, count(DISTINCT trigger_name)::int AS names FROM transfers WHERE sender_system_id = $1`, [sender.id]);
    expect(rows[0]).toEqual({ n: 40, names: 40 });
  }, 90_000);
});
