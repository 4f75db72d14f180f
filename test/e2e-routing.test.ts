import { readFile, stat } from 'node:fs/promises';
import { cli } from './helpers/cli.js';
import { addRoute } from './helpers/factories.js';
import { system, routed, AARHUS, createWorld, inbox, listTree, out, putAtomically, receiptOutcome, schemaErrors, send, sha256, waitForFile, xmlValue, type Backend, type World } from './helpers/router-world.js';
import { sleep, waitUntil } from './helpers/wait.js';

describe.each<Backend>(['postgres', 'redis'])('routing end to end (queue on %s)', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(`e2e${backend.slice(0, 2)}`, backend);
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  it('delivers a file and its metadata into the recipient IN/<kommunekode>/ and answers the sender with a SUCCESS receipt', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await send(w, { sender, infref });
    const receipt = await waitForFile(sent.receiptPath);
    expect(receiptOutcome(receipt)).toBe('SUCCESS');
    expect(await schemaErrors(receipt)).toBe('');
    expect(xmlValue(receipt, 'SendersFileId')).toBe(sent.trigger.sendersFileId);

    const delivered = inbox(w, recipient.username, AARHUS.kommunekode, sent.fileName);
    expect(sha256(await readFile(delivered))).toBe(sha256(sent.content));
    const metadata = await readFile(`${delivered}.metadata`, 'utf8');
    expect(await schemaErrors(metadata)).toBe('');
    expect(xmlValue(metadata, 'FileTransferUUID')).toBe(xmlValue(receipt, 'FileTransferUUID'));
    expect(xmlValue(metadata, 'Recipients')).toBe(recipient.username);
    expect(xmlValue(metadata, 'RecipientIt-system')).toBe(recipient.uuid);
    expect(xmlValue(metadata, 'fu:Sha256')).toBe(sha256(sent.content));
    expect(xmlValue(metadata, 'FileName')).toBe(sent.fileName);
    // OUT is clear.
    expect(await listTree(out(w, sender.username))).toEqual([]);
  });

  it('delivers into IN/ itself for a system with a flat inbox, with legacy metadata for a system set to it', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, {
      dataDir: w.dataDir,
      recipientOpts: { inbox: 'flat', metadata: 'legacy' },
    });
    const sent = await send(w, { sender, infref });
    expect(receiptOutcome(await waitForFile(sent.receiptPath))).toBe('SUCCESS');
    const delivered = inbox(w, recipient.username, sent.fileName);
    expect(sha256(await readFile(delivered))).toBe(sha256(sent.content));
    const metadata = await readFile(`${delivered}.metadata`, 'utf8');
    expect(metadata).toMatch(/<ns2:Trigger xmlns:ns2="http:\/\/serviceplatformen.dk\/xml\/wsdl\/soap11\/SFTP\/1\/types">\s*<FileTransferUUID>/);
  });

  it('delivers to every routed recipient, each exactly once', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const second = await system(w.db.pool, { dataDir: w.dataDir });
    await addRoute(w.db.pool, { sender: sender.username, infref: infref.name, recipient: second.username, authority: AARHUS.kommunekode });
    const sent = await send(w, { sender, infref });
    expect(receiptOutcome(await waitForFile(sent.receiptPath))).toBe('SUCCESS');
    for (const r of [recipient, second]) {
      expect(await listTree(inbox(w, r.username))).toEqual([`${AARHUS.kommunekode}/${sent.fileName}`, `${AARHUS.kommunekode}/${sent.fileName}.metadata`]);
    }
    // The receipt is written just before the delivery is recorded.
    const rows = await waitUntil('the delivery record', async () => {
      const r = await w.db.pool.query(`SELECT d.status FROM deliveries d JOIN transfers t ON t.id = d.transfer_id WHERE t.file_name = $1 AND t.finished_at IS NOT NULL`, [sent.fileName]);
      return r.rows.length > 0 ? r.rows : undefined;
    });
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered']);
  });

  it('never overwrites: a second file of the same name arrives as <name>.<FileTransferUUID>', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const first = await send(w, { sender, infref, fileName: 'same.csv', content: 'first\n' });
    await waitForFile(first.receiptPath);
    const second = await send(w, { sender, infref, fileName: 'same.csv', content: 'second\n', triggerName: 'same.csv.trigger' });
    // The second trigger has the same name: wait for a receipt naming another transfer.
    const firstId = xmlValue(await readFile(first.receiptPath, 'utf8'), 'FileTransferUUID');
    const receipt = await waitUntil('the second receipt', async () => {
      const r = await readFile(second.receiptPath, 'utf8');
      return xmlValue(r, 'FileTransferUUID') !== firstId ? r : undefined;
    });
    const secondId = xmlValue(receipt, 'FileTransferUUID')!;
    const dir = inbox(w, recipient.username, AARHUS.kommunekode);
    expect(await readFile(`${dir}/same.csv`, 'utf8')).toBe('first\n');
    expect(await readFile(`${dir}/same.csv.${secondId}`, 'utf8')).toBe('second\n');
    const metadata = await readFile(`${dir}/same.csv.${secondId}.metadata`, 'utf8');
    expect(xmlValue(metadata, 'FileName')).toBe(`same.csv.${secondId}`);
  });

  it('answers a trigger sent again after delivery (same Sender and SendersFileId) with the first receipt, and delivers nothing more', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const first = await send(w, { sender, infref, sendersFileId: 'weekly-2026-47' });
    const firstReceipt = await waitForFile(first.receiptPath);
    const again = await send(w, { sender, infref, sendersFileId: 'weekly-2026-47', noFile: true, triggerName: 'again.trigger' });
    const againReceipt = await waitForFile(again.receiptPath);
    expect(againReceipt).toBe(firstReceipt);
    expect(await listTree(inbox(w, recipient.username))).toEqual([`${AARHUS.kommunekode}/${first.fileName}`, `${AARHUS.kommunekode}/${first.fileName}.metadata`]);
    expect(await listTree(out(w, sender.username))).toEqual([]);
  });

  it('picks up a trigger renamed into place (WinSCP uploads x.filepart, then renames it)', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await send(w, { sender, infref, triggerName: 'renamed.trigger.filepart' });
    const { rename } = await import('node:fs/promises');
    await rename(out(w, sender.username, sent.triggerName), out(w, sender.username, 'renamed.trigger'));
    const receipt = await waitForFile(inbox(w, sender.username, 'renamed.sftpreceipt'));
    expect(receiptOutcome(receipt)).toBe('SUCCESS');
    expect((await stat(inbox(w, recipient.username, AARHUS.kommunekode, sent.fileName))).size).toBe(sent.content.length);
  });

  it('waits for a data file still being uploaded instead of refusing it as missing', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const content = Buffer.from('arrives late\n');
    const temp = `.late.csv.fu-upload-0123abcd`;
    await putAtomically(out(w, sender.username), temp, 'partial');
    const sent = await send(w, { sender, infref, fileName: 'late.csv', content, noFile: true });
    await sleep(700); // for a while, no answer at all: the router keeps waiting for the upload to end
    expect(await listTree(inbox(w, sender.username))).toEqual([]);
    await putAtomically(out(w, sender.username), 'late.csv', content);
    const { unlink } = await import('node:fs/promises');
    await unlink(out(w, sender.username, temp));
    expect(receiptOutcome(await waitForFile(sent.receiptPath))).toBe('SUCCESS');
    expect(await readFile(inbox(w, recipient.username, AARHUS.kommunekode, 'late.csv'), 'utf8')).toBe('arrives late\n');
  });

  it('records every step of the transfer', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await send(w, { sender, infref });
    const id = xmlValue(await waitForFile(sent.receiptPath), 'FileTransferUUID');
    const rows = await waitUntil('finished', async () => {
      const r = await w.db.pool.query(`SELECT step FROM transfer_steps WHERE transfer_id = $1 ORDER BY at, step`, [id]);
      return r.rows.some((s) => s.step === 'finished') ? r.rows.map((s) => s.step) : undefined;
    });
    expect(rows).toEqual(expect.arrayContaining(['received', 'trigger-taken', 'file-taken', 'hashed', 'validated', 'delivered', 'receipt-written', 'finished']));
    const { rows: t } = await w.db.pool.query(`SELECT status FROM transfers WHERE id = $1`, [id]);
    expect(t[0].status).toBe('delivered');
  });

  it('lists transfers by recipient, and counts them and their latency in /metrics', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const sent = await send(w, { sender, infref });
    const id = xmlValue(await waitForFile(sent.receiptPath), 'FileTransferUUID');
    const listed = await cli(['transfer', 'list', '--recipient', recipient.username, '--json'], { DATABASE_URL: w.db.url });
    expect(listed.code).toBe(0);
    expect(listed.json()).toEqual([expect.objectContaining({ id, status: 'delivered', sender: sender.username, recipients: [recipient.username], fileName: sent.fileName })]);
    const metrics = await (await fetch(`http://127.0.0.1:${w.env.HTTP_PORT}/metrics`)).text();
    expect(Number(/filudveksling_transfers_total\{outcome="delivered",code=""\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/filudveksling_routing_latency_seconds_count (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

});
