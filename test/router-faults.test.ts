import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { cli } from './helpers/cli.js';
import { addRoute, createVendor } from './helpers/factories.js';
import { addPerson } from './helpers/portal.js';
import { system, routed, AARHUS, createWorld, inbox, listTree, out, receiptOutcome, schemaErrors, send, waitForFile, xmlValue, type World } from './helpers/router-world.js';
import { waitUntil } from './helpers/wait.js';

/** Transient faults: retried with backoff; out of retries → failed + DELIVERY_FAILED; `transfer retry` finishes it. */
describe('delivery that keeps failing', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld('fault', 'postgres', { FILUDVEKSLING_ROUTER_ATTEMPTS: '3', FILUDVEKSLING_ROUTER_BACKOFF_MS: '100' });
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  it('withdraws what it placed, answers DELIVERY_FAILED (1901), and delivers to everyone once the operator retries', async () => {
    const senderVendor = await createVendor(w.db.pool, 'Afsender A/S');
    const recipientVendor = await createVendor(w.db.pool, 'Modtager A/S');
    const people = {
      senderAdmin: await addPerson(w.db.pool, { role: 'vendor-admin', vendorId: senderVendor.id, language: 'en' }),
      senderUser: await addPerson(w.db.pool, { role: 'vendor-user', vendorId: senderVendor.id }),
      recipientAdmin: await addPerson(w.db.pool, { role: 'vendor-admin', vendorId: recipientVendor.id }),
      operator: await addPerson(w.db.pool, { role: 'operator' }),
    };
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir, senderOpts: { vendor: senderVendor.name }, recipientOpts: { vendor: recipientVendor.name } });
    const blocked = await system(w.db.pool, { dataDir: w.dataDir });
    await addRoute(w.db.pool, { sender: sender.username, infref: infref.name, recipient: blocked.username, authority: AARHUS.kommunekode });
    // A plain file where the blocked recipient's authority folder should be: every attempt to deliver there fails.
    await mkdir(inbox(w, blocked.username), { recursive: true });
    await writeFile(inbox(w, blocked.username, AARHUS.kommunekode), 'in the way');

    const sent = await send(w, { sender, infref, sendersFileId: 'faulty-1' });
    const receipt = await waitForFile(sent.receiptPath, 30_000);
    expect(receiptOutcome(receipt)).toBe('1901');
    expect(await schemaErrors(receipt)).toBe('');
    const id = xmlValue(receipt, 'FileTransferUUID')!;
    expect(xmlValue(receipt, 'ErrorDescription')).toContain(`filudveksling transfer retry ${id}`);
    // The cause (ENOTDIR on the other recipient's folder) goes to the log, never into the sender's receipt.
    expect(xmlValue(receipt, 'ErrorDescription')).not.toMatch(new RegExp(`/|ENOTDIR|${blocked.username}|${AARHUS.kommunekode}`));
    // All or nothing: the recipient that could be reached does not keep a file either.
    expect(await listTree(inbox(w, recipient.username))).toEqual([]);
    expect(await listTree(out(w, sender.username))).toEqual([]);

    // SPEC §12: the failure's notices, written with it, to the sender's vendor's admins and the operators only.
    const failedNotices = async () =>
      (await w.db.pool.query<{ email: string; subject: string; body: string }>(`SELECT email, subject, body FROM notices WHERE event = 'transfer.failed' ORDER BY email`)).rows;
    const notices = await failedNotices();
    expect(notices.map((n) => n.email)).toEqual([people.senderAdmin.email, people.operator.email].sort());
    const english = notices.find((n) => n.email === people.senderAdmin.email)!;
    expect(english.subject).toBe(`Transfer failed (1901): ${sender.username}`);
    expect(english.body).toContain(`The transfer ${id} from ${sender.username} (${sent.fileName})`);

    const listed = await cli(['transfer', 'list', '--status', 'failed', '--sender', sender.username, '--json'], { DATABASE_URL: w.db.url });
    expect(listed.code).toBe(0);
    expect(listed.json().map((t: { id: string }) => t.id)).toEqual([id]);

    // The operator removes the cause, then retries.
    await rm(inbox(w, blocked.username, AARHUS.kommunekode));
    const retried = await cli(['transfer', 'retry', id, '--json', '--by', 'operatør'], { DATABASE_URL: w.db.url });
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    expect(retried.json()).toMatchObject({ id, status: 'validated' });

    const success = await waitUntil('the SUCCESS receipt', async () => {
      const r = await readFile(sent.receiptPath, 'utf8');
      return receiptOutcome(r) === 'SUCCESS' ? r : undefined;
    });
    expect(xmlValue(success, 'FileTransferUUID')).toBe(id);
    for (const r of [recipient, blocked]) {
      expect(await listTree(inbox(w, r.username))).toEqual([`${AARHUS.kommunekode}/${sent.fileName}`, `${AARHUS.kommunekode}/${sent.fileName}.metadata`]);
    }

    const shown = await cli(['transfer', 'show', id, '--json'], { DATABASE_URL: w.db.url });
    expect(shown.code).toBe(0);
    const t = shown.json();
    expect(t.status).toBe('delivered');
    expect(t.retries).toBe(1);
    expect(t.steps.map((s: { step: string }) => s.step)).toEqual(expect.arrayContaining(['received', 'validated', 'retry:1', 'delivered', 'finished']));
    expect(t.steps.some((s: { step: string }) => s.step.startsWith('failed:'))).toBe(true);
    expect(t.audit.map((a: { action: string; actor: string }) => `${a.actor} ${a.action}`)).toEqual(
      expect.arrayContaining(['router transfer.received', 'router transfer.validated', 'router transfer.delivering', 'router transfer.failed', 'operatør transfer.retry', 'router transfer.delivered']),
    );
    expect(await failedNotices()).toHaveLength(2); // delivered after the retry: nothing more to tell
    const human = await cli(['transfer', 'show', id], { DATABASE_URL: w.db.url });
    expect(human.stdout).toContain(`Transfer ${id}: delivered`);
    expect(human.stdout).toContain('<Message>SUCCESS</Message>');
  }, 60_000);

  it('refuses to retry a transfer that did not fail, and an unknown one', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await send(w, { sender, infref });
    const id = xmlValue(await waitForFile(sent.receiptPath), 'FileTransferUUID')!;
    const r = await cli(['transfer', 'retry', id], { DATABASE_URL: w.db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is delivered; only a failed transfer can be retried/);
    const unknown = await cli(['transfer', 'show', '00000000-0000-4000-8000-000000000000'], { DATABASE_URL: w.db.url });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No transfer 00000000-0000-4000-8000-000000000000/);
    const bad = await cli(['transfer', 'list', '--since', 'yesterday-ish'], { DATABASE_URL: w.db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since "yesterday-ish" is not a date/);
  });
});
