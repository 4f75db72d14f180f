import { join } from 'node:path';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { addRoute, createVendor } from './helpers/factories.js';
import { addPerson } from './helpers/portal.js';
import { system, routed, AARHUS, createWorld, inbox, listTree, out, receiptOutcome, send, waitForFile, xmlValue, type Backend, type SendOptions, type World } from './helpers/router-world.js';
import { waitUntil } from './helpers/wait.js';

/**
 * SPEC §5 "exactly once, also when a node dies mid-way": a real `filudveksling serve` is killed
 * (SIGKILL from inside, FILUDVEKSLING_FAILPOINT) at each step of a transfer, then started again.
 * Afterwards every recipient holds the file once, the sender has one receipt, OUT and the spool are clear.
 */
// Every step on the default queue (PostgreSQL); a few on Redis, where BullMQ's own recovery differs.
const matrix: [Backend, string[], string[]][] = [
  ['postgres', ['received', 'trigger-taken', 'file-taken', 'validated', 'data-placed', 'metadata-written', 'receipt-written', 'delivered'], ['rejected', 'quarantined']],
  ['redis', ['received', 'data-placed', 'delivered'], ['quarantined']],
];

describe.each(matrix)('crash at every step, then restart (queue on %s)', (backend, deliveredCases, rejectedCases) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(`crash${backend.slice(0, 2)}`, backend);
  }, 60_000);
  afterAll(async () => w?.close());

  // A case that failed half way must not leave a transfer for the next case's failpoint to trip on.
  beforeEach(async () => {
    await w.stop('SIGKILL');
    const unfinished = async () =>
      (await w.db.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE finished_at IS NULL AND status NOT IN ('failed', 'expired')`)).rows[0].n as number;
    if ((await unfinished()) === 0) return;
    await w.start();
    await waitUntil('leftovers to finish', async () => ((await unfinished()) === 0 ? true : undefined), 30_000);
    await w.stop();
  }, 60_000);

  it.each(deliveredCases)('killed at %s: each recipient gets the file once, the sender one receipt', async (failpoint) => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const second = await system(w.db.pool, { dataDir: w.dataDir, inbox: 'flat' });
    await addRoute(w.db.pool, { sender: sender.username, infref: infref.name, recipient: second.username, authority: AARHUS.kommunekode });

    await w.start({ FILUDVEKSLING_FAILPOINT: failpoint });
    const sent = await send(w, { sender, infref });
    const killed = w.serve!;
    w.serve = undefined;
    const code = await waitUntil('the failpoint to kill serve', () => killed.exited, 20_000);
    expect(code).not.toBe(0);
    expect(killed.output()).toContain(`failpoint ${failpoint}`);

    await w.start();
    try {
      const receipt = await waitForFile(sent.receiptPath, 30_000);
      expect(receiptOutcome(receipt)).toBe('SUCCESS');
      const id = xmlValue(receipt, 'FileTransferUUID')!;
      await waitUntil('the transfer to finish', async () => {
        const { rows } = await w.db.pool.query('SELECT finished_at FROM transfers WHERE id = $1', [id]);
        return rows[0]?.finished_at ?? undefined;
      });
      expect(await listTree(inbox(w, recipient.username))).toEqual([`${AARHUS.kommunekode}/${sent.fileName}`, `${AARHUS.kommunekode}/${sent.fileName}.metadata`]);
      expect(await listTree(inbox(w, second.username))).toEqual([sent.fileName, `${sent.fileName}.metadata`]);
      expect(await listTree(inbox(w, sender.username))).toEqual([sent.receiptPath.split('/').pop()]);
      expect(await listTree(out(w, sender.username))).toEqual([]);
      expect(await readdir(join(w.dataDir, 'spool')).catch(() => [])).not.toContain(id);
      const { rows } = await w.db.pool.query(`SELECT count(*)::int AS n, min(status) AS status FROM transfers WHERE sender_system_id = $1`, [sender.id]);
      expect(rows[0]).toEqual({ n: 1, status: 'delivered' });
      const { rows: d } = await w.db.pool.query(`SELECT status, delivered_name FROM deliveries WHERE transfer_id = $1 ORDER BY delivered_name`, [id]);
      expect(d).toEqual([
        { status: 'delivered', delivered_name: sent.fileName },
        { status: 'delivered', delivered_name: sent.fileName },
      ]);
    } finally {
      await w.stop();
    }
  }, 90_000);

  it.each(rejectedCases)('killed at %s: the rejection is quarantined once and answered once', async (failpoint) => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await w.start({ FILUDVEKSLING_FAILPOINT: failpoint });
    const sent = await send(w, { sender, infref, size: 99_999 });
    const killed = w.serve!;
    w.serve = undefined;
    expect(await waitUntil('the failpoint to kill serve', () => killed.exited, 20_000)).not.toBe(0);
    expect(killed.output()).toContain(`failpoint ${failpoint}`);
    await w.start();
    try {
      const receipt = await waitForFile(sent.receiptPath, 30_000);
      expect(receiptOutcome(receipt)).toBe('1005');
      const id = xmlValue(receipt, 'FileTransferUUID')!;
      expect((await readdir(join(w.dataDir, 'quarantine', id))).sort()).toEqual([sent.fileName, sent.triggerName].sort());
      expect(await listTree(out(w, sender.username))).toEqual([]);
      const { rows } = await w.db.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE sender_system_id = $1`, [sender.id]);
      expect(rows[0].n).toBe(1);
    } finally {
      await w.stop();
    }
  }, 90_000);
});

describe('a trigger replaced under the same name before the router took it', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld('replaced');
  }, 60_000);
  afterAll(async () => w?.close());

  it('routes both: the first from what was recorded, the newer one as its own transfer', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    // Killed right after the first trigger was recorded, before it was taken out of OUT.
    await w.start({ FILUDVEKSLING_FAILPOINT: 'received' });
    const first = await send(w, { sender, infref, fileName: 'first.csv', triggerName: 'same-name.trigger' });
    const killed = w.serve!;
    w.serve = undefined;
    expect(await waitUntil('the failpoint to kill serve', () => killed.exited, 20_000)).not.toBe(0);
    // The sender uploads another trigger under the same name (another data file).
    const second = await send(w, { sender, infref, fileName: 'second.csv', triggerName: 'same-name.trigger' });
    await w.start();
    try {
      await waitUntil('both transfers delivered', async () => {
        const { rows } = await w.db.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE sender_system_id = $1 AND status = 'delivered' AND finished_at IS NOT NULL`, [sender.id]);
        return rows[0].n === 2 ? true : undefined;
      }, 30_000);
      expect(await listTree(inbox(w, recipient.username))).toEqual([
        `${AARHUS.kommunekode}/first.csv`,
        `${AARHUS.kommunekode}/first.csv.metadata`,
        `${AARHUS.kommunekode}/second.csv`,
        `${AARHUS.kommunekode}/second.csv.metadata`,
      ]);
      expect(await listTree(out(w, sender.username))).toEqual([]);
      const { rows } = await w.db.pool.query(`SELECT file_name FROM transfers WHERE sender_system_id = $1 ORDER BY received_at`, [sender.id]);
      expect(rows.map((r) => r.file_name)).toEqual([first.fileName, second.fileName]);
    } finally {
      await w.stop();
    }
  }, 90_000);
});

describe('crash while recording a failure (1901)', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld('crashfail', 'postgres', { FILUDVEKSLING_ROUTER_ATTEMPTS: '2', FILUDVEKSLING_ROUTER_BACKOFF_MS: '50' });
  }, 60_000);
  afterAll(async () => w?.close());

  /** A sender of `vendor` routed to one recipient whose inbox a file stands in the way of: every delivery attempt fails. */
  async function routeThatFails(vendor: string) {
    const routedTo = await routed(w.db.pool, { dataDir: w.dataDir, senderOpts: { vendor } });
    const blocked = await system(w.db.pool, { dataDir: w.dataDir });
    await addRoute(w.db.pool, { sender: routedTo.sender.username, infref: routedTo.infref.name, recipient: blocked.username, authority: AARHUS.kommunekode });
    await mkdir(inbox(w, blocked.username), { recursive: true });
    await writeFile(inbox(w, blocked.username, AARHUS.kommunekode), 'in the way');
    return routedTo;
  }

  /** Starts serve armed at `point`, sends one file, and waits for the failpoint to kill serve. */
  async function sendUntilKilled(point: 'failure-noticed' | 'failure-committed', sender: SendOptions['sender'], infref: SendOptions['infref']) {
    await w.start({ FILUDVEKSLING_FAILPOINT: point });
    const sent = await send(w, { sender, infref });
    const killed = w.serve!;
    w.serve = undefined;
    expect(await waitUntil('the failpoint to kill serve', () => killed.exited, 20_000)).not.toBe(0);
    expect(killed.output()).toContain(`failpoint ${point}`);
    return sent;
  }

  it('killed with the failure and its notices written, not committed: after the restart it fails once, one receipt, one notice per addressee', async () => {
    const vendor = await createVendor(w.db.pool, 'Afsender A/S');
    const admin = await addPerson(w.db.pool, { role: 'vendor-admin', vendorId: vendor.id });
    const operator = await addPerson(w.db.pool, { role: 'operator' });
    const { sender, infref } = await routeThatFails(vendor.name);

    const sent = await sendUntilKilled('failure-noticed', sender, infref);
    const failedNotices = async () => (await w.db.pool.query<{ email: string }>(`SELECT email FROM notices WHERE event = 'transfer.failed' ORDER BY email`)).rows.map((r) => r.email);
    expect(await failedNotices()).toEqual([]); // neither the failure nor its notices outlived the kill
    const { rows: before } = await w.db.pool.query(`SELECT status FROM transfers WHERE sender_system_id = $1`, [sender.id]);
    expect(before).toEqual([{ status: 'delivering' }]);

    await w.start();
    try {
      const receipt = await waitForFile(sent.receiptPath, 30_000);
      expect(receiptOutcome(receipt)).toBe('1901');
      const id = xmlValue(receipt, 'FileTransferUUID')!;
      expect(await failedNotices()).toEqual([admin.email, operator.email].sort());
      const { rows } = await w.db.pool.query(
        `SELECT t.status, (SELECT count(*)::int FROM transfer_steps s WHERE s.transfer_id = t.id AND s.step LIKE 'failed:%') AS failures
           FROM transfers t WHERE t.id = $1`,
        [id],
      );
      expect(rows).toEqual([{ status: 'failed', failures: 1 }]);
      expect(await listTree(inbox(w, sender.username))).toEqual([sent.receiptPath.split('/').pop()]);
    } finally {
      await w.stop();
    }
  }, 90_000);

  it('killed after the failure committed, before its receipt: after the restart the sender gets the 1901 receipt, and nothing is told twice', async () => {
    const vendor = await createVendor(w.db.pool, 'Afsender B/S');
    const admin = await addPerson(w.db.pool, { role: 'vendor-admin', vendorId: vendor.id });
    const { sender, infref } = await routeThatFails(vendor.name);

    const sent = await sendUntilKilled('failure-committed', sender, infref);
    const state = async () =>
      (
        await w.db.pool.query(
          `SELECT t.id::text, t.status, t.failure_receipt_owed AS owed,
                  (SELECT count(*)::int FROM transfer_steps s WHERE s.transfer_id = t.id AND s.step LIKE 'failed:%') AS failures
             FROM transfers t WHERE t.sender_system_id = $1`,
          [sender.id],
        )
      ).rows;
    const [failed] = await state();
    expect(failed).toMatchObject({ status: 'failed', owed: true, failures: 1 });
    expect(await listTree(inbox(w, sender.username))).toEqual([]); // the receipt the kill kept from the sender

    await w.start();
    try {
      const receipt = await waitForFile(sent.receiptPath, 30_000);
      expect(receiptOutcome(receipt)).toBe('1901');
      expect(xmlValue(receipt, 'FileTransferUUID')).toBe(failed.id);
      await waitUntil('the receipt to be marked written', async () => ((await state())[0].owed === false ? true : undefined), 10_000);
      expect(await state()).toEqual([{ id: failed.id, status: 'failed', owed: false, failures: 1 }]);
      const { rows: told } = await w.db.pool.query<{ email: string; n: number }>(
        `SELECT email, count(*)::int AS n FROM notices WHERE event = 'transfer.failed' AND event_key LIKE $1 GROUP BY email`,
        [`%${failed.id}%`],
      );
      expect(told.find((r) => r.email === admin.email)).toEqual({ email: admin.email, n: 1 });
      expect(told.every((r) => r.n === 1)).toBe(true);
      expect(await listTree(inbox(w, sender.username))).toEqual([sent.receiptPath.split('/').pop()]);
    } finally {
      await w.stop();
    }
  }, 90_000);
});
