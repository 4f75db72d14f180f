import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import { resetUser } from '../src/accounts/manage-user.js';
import { approveAgreement, rejectAgreement, terminateAgreement } from '../src/agreements/agreements.js';
import { requestAgreement } from '../src/agreements/request-agreements.js';
import { writeFallingBehindNotices } from '../src/notices/falling-behind-notice.js';
import { startNoticeSender, type NoticeSender } from '../src/notices/notice-sender.js';
import { NOTICE_EVENTS } from '../src/notices/notice-texts.js';
import { hourOf, writeRejectionDigests } from '../src/notices/rejection-digest.js';
import { buildTrigger } from '../src/triggers/build-xml.js';
import type { TestDatabase } from './helpers/database.js';
import { addRoute, createVendor, declare, issueInfRef, registerSystem, type TestInfRef, type TestSystem } from './helpers/factories.js';
import { addPerson, type TestPerson } from './helpers/portal.js';
import { AARHUS, createWorld, inbox, makeTrigger, receiptOutcome, send, system, waitForFile, xmlValue, type World } from './helpers/router-world.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { waitUntil } from './helpers/wait.js';

let w: World;
let db: TestDatabase;
let smtp: TestSmtp;
let sender: NoticeSender;
let dataDir: string;
let people: Record<string, TestPerson>;
let fagsystem: TestSystem;
/** fagsystem-n's approved InfRef (its declaration's notice is one of the events). */
let approved: TestInfRef;

beforeAll(async () => {
  // A running serve routes (without SMTP_URL: its notices stay in the outbox); this process mails them.
  w = await createWorld('notices_ev', 'postgres', { FILUDVEKSLING_ROUTER_ATTEMPTS: '2', FILUDVEKSLING_ROUTER_BACKOFF_MS: '50' });
  db = w.db;
  dataDir = w.dataDir;
  smtp = await startSmtp();
  const vendor = await createVendor(db.pool, 'Leverandør A');
  const other = await createVendor(db.pool, 'Leverandør B');
  const aarhus = (await db.pool.query<{ id: number }>(`SELECT id FROM authorities WHERE kommunekode = '0751'`)).rows[0]!.id;
  const odense = (await db.pool.query<{ id: number }>(`SELECT id FROM authorities WHERE kommunekode = '0461'`)).rows[0]!.id;
  people = {
    vendorAdmin: await addPerson(db.pool, { role: 'vendor-admin', vendorId: vendor.id, language: 'en' }),
    vendorUser: await addPerson(db.pool, { role: 'vendor-user', vendorId: vendor.id }),
    otherVendorAdmin: await addPerson(db.pool, { role: 'vendor-admin', vendorId: other.id }),
    aarhusAdmin: await addPerson(db.pool, { role: 'authority-admin', authorityId: aarhus }),
    aarhusUser: await addPerson(db.pool, { role: 'authority-user', authorityId: aarhus }),
    odenseAdmin: await addPerson(db.pool, { role: 'authority-admin', authorityId: odense }),
    operator: await addPerson(db.pool, { role: 'operator' }),
  };
  fagsystem = await registerSystem(db.pool, { username: 'fagsystem-n', vendor: 'Leverandør A', dataDir });
  await w.start();
  sender = await startNoticeSender({
    pool: db.pool,
    backend: { kind: 'postgres', databaseUrl: db.url, prefix: 'fu' },
    smtpUrl: smtp.url,
    mailFrom: 'advis@filudveksling.test',
    publicUrl: 'https://portal.test',
    attempts: 3,
    backoffMs: 20,
    pollMs: 50,
  });
});
afterAll(async () => {
  await sender?.close();
  await smtp?.close();
  await w?.close();
});

/** The recipients of every mail whose subject starts so (after the outbox has emptied). */
async function recipients(subjectStart: string): Promise<string[]> {
  await waitUntil('the outbox to be sent', async () => (await db.pool.query(`SELECT 1 FROM notices WHERE state <> 'sent'`)).rowCount === 0);
  return smtp.mails.filter((m) => m.subject.startsWith(subjectStart)).flatMap((m) => m.to).sort();
}

describe('each event of SPEC §12 reaches its addressees, and only them, at a real SMTP server', () => {
  it('invitation: the person, in their language, with the link', async () => {
    const invited = await recipients('Invitation til');
    expect(invited).toContain(people.aarhusUser!.email);
    expect(invited).not.toContain(people.vendorAdmin!.email); // English: its own subject
    expect(await recipients('Invitation to')).toEqual([people.vendorAdmin!.email]);
    const mail = smtp.mails.find((m) => m.to.includes(people.vendorAdmin!.email))!;
    expect(mail.data).toContain('http://portal.test/');
  });

  it('agreement requested → the authority admins; approved, rejected, terminated → the vendor admins', async () => {
    const a = await requestAgreement(db.pool, { system: 'fagsystem-n', service: 'send', authority: '0751' }, 'test');
    expect(await recipients('Anmodning om serviceaftale')).toEqual([people.aarhusAdmin!.email]);
    await approveAgreement(db.pool, a.id, {}, 'test');
    expect(await recipients('Agreement approved: fagsystem-n')).toEqual([people.vendorAdmin!.email]);
    await terminateAgreement(db.pool, a.id, { reason: 'contract ended' }, 'test');
    expect(await recipients('Agreement terminated: fagsystem-n')).toEqual([people.vendorAdmin!.email]);
    const b = await requestAgreement(db.pool, { system: 'fagsystem-n', service: 'fetch', authority: '0461' }, 'test');
    expect(await recipients('Anmodning om serviceaftale: fagsystem-n (fetch)')).toEqual([people.odenseAdmin!.email]);
    await rejectAgreement(db.pool, b.id, { reason: 'not needed' }, 'test');
    expect(await recipients('Agreement rejected: fagsystem-n (fetch)')).toEqual([people.vendorAdmin!.email]);
    const rejected = smtp.mails.filter((m) => m.subject.startsWith('Agreement rejected'));
    // The link is the agreement's own page, after one blank line.
    expect(rejected[0]!.text).toMatch(new RegExp(`\\nReason: not needed\\r?\\n\\r?\\nhttps://portal\\.test/agreements/${b.id}\\r?\\n`));
    const requested = smtp.mails.find((m) => m.subject.startsWith('Anmodning om serviceaftale: fagsystem-n (send)'))!;
    expect(requested.text).toMatch(new RegExp(`https://portal\\.test/agreements/${a.id}\\r?\\n`));
  });

  it('GDPR declaration rejected or approved → the admins of the InfRef owner vendor', async () => {
    const infref = await issueInfRef(db.pool, 'fagsystem-n', { approve: false });
    await declare(db.pool, infref.name, 'rejected');
    expect(await recipients(`GDPR declaration rejected: ${infref.name}`)).toEqual([people.vendorAdmin!.email]);
    approved = await issueInfRef(db.pool, 'fagsystem-n', { approve: true });
    expect(await recipients(`GDPR declaration approved: ${approved.name}`)).toEqual([people.vendorAdmin!.email]);
  });

  it('password reset → the person, with the link', async () => {
    await resetUser(db.pool, people.aarhusUser!.email, 'test', { publicUrl: 'http://portal.test', clock: () => new Date() });
    expect(await recipients('Ny adgangskode')).toEqual([people.aarhusUser!.email]);
    const mail = smtp.mails.find((m) => m.subject.startsWith('Ny adgangskode'))!;
    expect(mail.data).toMatch(/http:\/\/portal\.test\/\S+/);
  });

  it('transfer failed (1901) → the sender vendor admins and the operators', async () => {
    const recipient = await system(db.pool, { vendor: 'Leverandør B', dataDir });
    await addRoute(db.pool, { sender: 'fagsystem-n', infref: approved.name, recipient: recipient.username, authority: AARHUS.kommunekode });
    // A plain file where the recipient's authority folder should be: every attempt fails.
    await mkdir(inbox(w, recipient.username), { recursive: true });
    await writeFile(inbox(w, recipient.username, AARHUS.kommunekode), 'in the way');
    const sent = await send(w, { sender: fagsystem, infref: approved, fileName: 'borgere-1901.csv', content: 'CPR;navn\n0101011234;Secret Name\n' });
    expect(receiptOutcome(await waitForFile(sent.receiptPath, 30_000))).toBe('1901');
    expect(await recipients('Transfer failed (1901): fagsystem-n')).toEqual([people.vendorAdmin!.email]);
    expect(await recipients('Overførsel fejlet (1901): fagsystem-n')).toEqual([people.operator!.email]);
    const mail = smtp.mails.find((m) => m.subject.startsWith('Transfer failed'))!;
    expect(mail.text).toContain('borgere-1901.csv');
    expect(mail.text).not.toContain('Secret Name');
  });

  it('transfers rejected (11xx/12xx) → one digest per system per hour to its vendor admins: counts, code, file name, time; 10xx not counted', async () => {
    const other = await system(db.pool, { vendor: 'Leverandør B', dataDir });
    const otherInfRef = await issueInfRef(db.pool, other.username, { approve: true });
    const rejected = [
      await send(w, { sender: fagsystem, infref: approved, authority: '64942212', fileName: 'no-route.csv', content: 'Secret Name' }), // 1204
      await send(w, { sender: fagsystem, infref: 'FagsystemdefineredeDataRefGDPR999999_1', fileName: 'unknown-infref.csv' }), // 1101
      await send(w, { sender: fagsystem, infref: approved, fileName: 'cut.csv', content: 'x', rawTrigger: buildTrigger(makeTrigger({ sender: fagsystem, infref: approved }, 'cut.csv', Buffer.from('x'))).slice(0, 400) }), // 1001
      await send(w, { sender: other, infref: otherInfRef, authority: '64942212', fileName: 'other-no-route.csv' }), // 1204
    ];
    const ids: string[] = [];
    for (const r of rejected) ids.push(xmlValue(await waitForFile(r.receiptPath), 'FileTransferUUID')!);
    const { rows } = await db.pool.query<{ at: Date }>(`SELECT max(decided_at) AS at FROM transfers WHERE id = ANY($1)`, [ids]);
    const last = rows[0]!.at;
    // Within its hour nothing is sent; once the hour is over, one digest, however many nodes look how often.
    expect(await writeRejectionDigests(db.pool, last)).toBe(0);
    const after = new Date(hourOf(last).getTime() + 3_600_000 + 2 * 60_000);
    await Promise.all([writeRejectionDigests(db.pool, after), writeRejectionDigests(db.pool, after)]);
    await writeRejectionDigests(db.pool, new Date(after.getTime() + 5 * 60_000));
    await recipients('');
    const ours = smtp.mails.filter((m) => / transfers rejected: fagsystem-n$/.test(m.subject));
    const theirs = smtp.mails.filter((m) => m.subject.endsWith(`rejected: ${other.username}`) || m.subject.endsWith(`afvist: ${other.username}`));
    expect(ours.flatMap((m) => m.to)).toEqual([people.vendorAdmin!.email]);
    expect(theirs.flatMap((m) => m.to)).toEqual([people.otherVendorAdmin!.email]);
    const text = ours[0]!.text;
    expect(ours[0]!.subject).toBe('2 transfers rejected: fagsystem-n');
    expect(theirs[0]!.subject).toBe(`1 overførsel afvist: ${other.username}`);
    expect(text).toContain('1204 ROUTE_MISSING: 1');
    expect(text).toContain('1101 INFREF_UNKNOWN: 1');
    expect(text).toMatch(/\d\d:\d\d:\d\d UTC  1204  no-route\.csv/);
    expect(text).toMatch(/\d\d:\d\d:\d\d UTC  1101  unknown-infref\.csv/);
    expect(text).not.toContain('cut.csv'); // 1001: the trigger's form, the sender's own error
    expect(text).not.toContain('Secret Name');
  });

  it('recipient falling behind → its vendor admins, at most once a day', async () => {
    const late = await system(db.pool, { vendor: 'Leverandør B', dataDir });
    const infref = await issueInfRef(db.pool, 'fagsystem-n', { approve: true });
    await addRoute(db.pool, { sender: 'fagsystem-n', infref: infref.name, recipient: late.username, authority: AARHUS.kommunekode });
    const sent = await send(w, { sender: fagsystem, infref, fileName: 'never-fetched.csv' });
    expect(receiptOutcome(await waitForFile(sent.receiptPath, 30_000))).toBe('SUCCESS');
    const placed = await waitUntil('the delivery to be recorded', async () => {
      const { rows } = await db.pool.query<{ at: Date | null }>(`SELECT placed_at AS at FROM deliveries d JOIN systems s ON s.id = d.recipient_system_id WHERE s.username = $1`, [late.username]);
      return rows[0]?.at ?? undefined;
    });
    const hours = (n: number) => new Date(placed.getTime() + n * 3_600_000);
    expect(await writeFallingBehindNotices(db.pool, hours(23.9), 24)).toBe(0);
    const [a, b] = await Promise.all([writeFallingBehindNotices(db.pool, hours(24.1), 24), writeFallingBehindNotices(db.pool, hours(24.1), 24)]);
    expect(a + b).toBe(1); // two nodes looking at once: one notice
    expect(await writeFallingBehindNotices(db.pool, hours(47), 24)).toBe(0); // the same day
    expect(await recipients(`Filer hentes ikke: ${late.username}`)).toEqual([people.otherVendorAdmin!.email]);
    const mail = smtp.mails.find((m) => m.subject === `Filer hentes ikke: ${late.username}`)!;
    expect(mail.text).toContain(`${late.username} har 1 leveret fil, der ikke er hentet; den blev leveret`);
    expect(await writeFallingBehindNotices(db.pool, hours(48.2), 24)).toBe(1); // a day later, still behind: told again
    expect(await recipients(`Filer hentes ikke: ${late.username}`)).toEqual([people.otherVendorAdmin!.email, people.otherVendorAdmin!.email]);
  });

  it('every event of SPEC §12 was mailed: one mail per notice, to its addressee only', async () => {
    await recipients('');
    const { rows } = await db.pool.query<{ event: string; email: string; state: string; subject: string }>('SELECT event, email, state, subject FROM notices ORDER BY id');
    expect([...new Set(rows.map((r) => r.event))].sort()).toEqual([...NOTICE_EVENTS].sort());
    expect(rows.filter((r) => r.state !== 'sent')).toEqual([]);
    expect(smtp.mails.map((m) => `${m.to.join(',')} ${m.subject}`).sort()).toEqual(rows.map((r) => `${r.email} ${r.subject}`).sort());
  });
});

