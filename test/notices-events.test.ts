import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveAgreement, rejectAgreement, terminateAgreement } from '../src/agreements/agreements.js';
import { requestAgreement } from '../src/agreements/request-agreements.js';
import { startNoticeSender, type NoticeSender } from '../src/notices/notice-sender.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { createVendor, declare, issueInfRef, migrated, registerSystem } from './helpers/factories.js';
import { addPerson, type TestPerson } from './helpers/portal.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { waitUntil } from './helpers/wait.js';

let db: TestDatabase;
let smtp: TestSmtp;
let sender: NoticeSender;
let dataDir: string;
let people: Record<string, TestPerson>;

beforeAll(async () => {
  db = await createTestDatabase('notices_ev');
  await migrated(db.pool);
  dataDir = await mkdtemp(join(tmpdir(), 'notices-'));
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
  await registerSystem(db.pool, { username: 'fagsystem-n', vendor: 'Leverandør A', dataDir });
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
  await sender.close();
  await smtp.close();
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The recipients of every mail whose subject starts so (after the outbox has emptied). */
async function recipients(subjectStart: string): Promise<string[]> {
  await waitUntil('the outbox to be sent', async () => (await db.pool.query(`SELECT 1 FROM notices WHERE state <> 'sent'`)).rowCount === 0);
  return smtp.mails.filter((m) => m.subject.startsWith(subjectStart)).flatMap((m) => m.to).sort();
}

describe('events of SPEC §12 reach their addressees and only them', () => {
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
    expect(rejected[0]!.data).toContain('Reason: not needed');
  });

  it('GDPR declaration rejected → the admins of the InfRef owner vendor', async () => {
    const infref = await issueInfRef(db.pool, 'fagsystem-n', { approve: false });
    await declare(db.pool, infref.name, 'rejected');
    expect(await recipients(`GDPR declaration rejected: ${infref.name}`)).toEqual([people.vendorAdmin!.email]);
  });
});
