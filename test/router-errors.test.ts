import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTrigger } from '../src/triggers/build-xml.js';
import { addRoute, approveAgreement, disableSystem, issueInfRef, revokeInfRef } from './helpers/factories.js';
import { system, routed, AARHUS, createWorld, inbox, listTree, makeTrigger, out, receiptOutcome, schemaErrors, send, waitForFile, xmlValue, type SendOptions, type World } from './helpers/router-world.js';

/** SPEC §5: one test per error code — the receipt, the quarantine, and nothing in any IN. */
describe('rejections (SPEC §5 error codes)', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld('rerr');
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  async function expectRejected(world: World, o: SendOptions, code: number, text: RegExp): Promise<string> {
    const sent = await send(world, o);
    const receipt = await waitForFile(sent.receiptPath);
    expect(receiptOutcome(receipt)).toBe(String(code));
    expect(await schemaErrors(receipt)).toBe('');
    expect(xmlValue(receipt, 'ErrorDescription')).toMatch(text);
    const id = xmlValue(receipt, 'FileTransferUUID')!;
    // Trigger and data file are kept in quarantine, OUT is clear, and no system got anything but this receipt.
    const quarantined = await readdir(join(world.dataDir, 'quarantine', id));
    expect(quarantined).toContain(sent.triggerName);
    if (!o.noFile) expect(quarantined).toContain(sent.fileName);
    expect(await listTree(out(world, o.sender.username))).toEqual([]);
    const homes = await listTree(join(world.dataDir, 'homes'));
    expect(homes.filter((p) => p.includes('/IN/') && !p.endsWith('.sftpreceipt'))).toEqual([]);
    const { rows } = await world.db.pool.query('SELECT status, error_code FROM transfers WHERE id = $1', [id]);
    expect(rows[0].status).toBe('rejected');
    return receipt;
  }

  it('1001 TRIGGER_MALFORMED: a trigger that is not XML', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    // Cut off mid-way: not well-formed, but its FileName can still be read, so the data file is quarantined with it.
    const xml = buildTrigger(makeTrigger({ sender, infref }, 'cut.csv', Buffer.from('x'))).slice(0, 400);
    await expectRejected(w, { sender, infref, fileName: 'cut.csv', content: 'x', rawTrigger: xml }, 1001, /./);
  });

  it('1002 TRIGGER_INVALID: a trigger without InfRef names the element', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const xml = buildTrigger(makeTrigger({ sender, infref }, 'x.csv', Buffer.from('x'))).replace(/<InfRef>[^<]*<\/InfRef>/, '');
    await expectRejected(w, { sender, infref, fileName: 'x.csv', content: 'x', rawTrigger: xml }, 1002, /InfRef/);
  });

  it('1003 SENDER_MISMATCH: Sender is another system', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, tweak: (t) => (t.sender = recipient.username) }, 1003, new RegExp(`Sender is '${recipient.username}'`));
  });

  it('1003 SENDER_MISMATCH: SenderIt-system is another system', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, tweak: (t) => (t.routing.senderItSystem = recipient.uuid) }, 1003, /SenderIt-system/);
  });

  it('1004 FILE_MISSING: no data file in OUT', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, noFile: true, fileName: 'never-uploaded.csv' }, 1004, /never-uploaded\.csv/);
  });

  it('1005 SIZE_MISMATCH: SizeInBytes differs from the file', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, content: '12345', size: 6 }, 1005, /5 bytes.*6/);
  });

  it('1006 CHECKSUM_MISMATCH: fu:Sha256 differs from the file', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, sha256: 'a'.repeat(64) }, 1006, /SHA-256/);
  });

  it('1101 INFREF_UNKNOWN: no such InfRef', async () => {
    const { sender } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref: 'FagsystemdefineredeDataRefGDPR999999_1' }, 1101, /FagsystemdefineredeDataRefGDPR999999_1/);
  });

  it("1102 INFREF_NOT_OWNED: another sender's InfRef", async () => {
    const { sender } = await routed(w.db.pool, { dataDir: w.dataDir });
    const other = await system(w.db.pool, { dataDir: w.dataDir });
    const theirs = await issueInfRef(w.db.pool, other.username, { approve: true });
    await expectRejected(w, { sender, infref: theirs }, 1102, /another sending system/);
  });

  it('1103 INFREF_REVOKED: a revoked InfRef', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await revokeInfRef(w.db.pool, infref.name);
    await expectRejected(w, { sender, infref }, 1103, /revoked/);
  });

  it('1104 GDPR_NOT_APPROVED: declaration pending', async () => {
    const { sender, recipient } = await routed(w.db.pool, { dataDir: w.dataDir });
    const pending = await issueInfRef(w.db.pool, sender.username, { declaration: 'pending' });
    await addRoute(w.db.pool, { sender: sender.username, infref: pending.name, recipient: recipient.username, authority: AARHUS.kommunekode });
    await expectRejected(w, { sender, infref: pending }, 1104, /pending/);
  });

  it('1201 AUTHORITY_UNKNOWN: a CVR the platform does not know', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, authority: '10000009' }, 1201, /10000009/);
  });

  it('1202 RECIPIENT_UNKNOWN: a named recipient that does not exist', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, recipients: ['nobody-by-that-name'] }, 1202, /nobody-by-that-name/);
  });

  it('1203 RECIPIENT_DISABLED: a named recipient that is disabled', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await disableSystem(w.db.pool, recipient.username);
    await expectRejected(w, { sender, infref, recipientItSystem: recipient.uuid }, 1203, /disabled/);
  });

  it('1204 ROUTE_MISSING: no route for the authority', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    await expectRejected(w, { sender, infref, authority: '64942212' }, 1204, /No route .* 0101 København/);
  });

  it('1204 ROUTE_MISSING: a route not yet valid on the selection date', async () => {
    const { sender, recipient } = await routed(w.db.pool, { dataDir: w.dataDir });
    const later = await issueInfRef(w.db.pool, sender.username, { approve: true });
    await addRoute(w.db.pool, { sender: sender.username, infref: later.name, recipient: recipient.username, authority: AARHUS.kommunekode, validFrom: '2030-01-01' });
    await expectRejected(w, { sender, infref: later, routeDate: '2029-12-31' }, 1204, /valid on 2029-12-31/);
  });

  describe('in production', () => {
    let p: World;
    beforeAll(async () => {
      p = await createWorld('rprod', 'postgres', { FILUDVEKSLING_ENV: 'production' });
      await p.start();
    }, 120_000);
    afterAll(async () => p?.close());

    it('1205 AGREEMENT_MISSING: the recipient has no fetch agreement for the authority', async () => {
      const { sender, recipient, infref } = await routed(p.db.pool, { dataDir: p.dataDir });
      await approveAgreement(p.db.pool, { system: sender.username, service: 'send', authority: AARHUS.kommunekode });
      await expectRejected(p, { sender, infref }, 1205, new RegExp(`'${recipient.username}' has no approved service agreement to fetch`));
    });

    it('delivers once both agreements are approved', async () => {
      const { sender, recipient, infref } = await routed(p.db.pool, { dataDir: p.dataDir });
      await approveAgreement(p.db.pool, { system: sender.username, service: 'send', authority: AARHUS.kommunekode });
      await approveAgreement(p.db.pool, { system: recipient.username, service: 'fetch', authority: AARHUS.kommunekode });
      const sent = await send(p, { sender, infref });
      expect(receiptOutcome(await waitForFile(sent.receiptPath))).toBe('SUCCESS');
      expect(await listTree(inbox(p, recipient.username))).toEqual([`${AARHUS.kommunekode}/${sent.fileName}`, `${AARHUS.kommunekode}/${sent.fileName}.metadata`]);
    });
  });
});
