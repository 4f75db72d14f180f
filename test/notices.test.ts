import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config/config.js';
import { registry } from '../src/metrics/metrics.js';
import { startNoticeSender, type NoticeSender, type SenderOptions } from '../src/notices/notice-sender.js';
import { noticesComponent } from '../src/notices/notices-component.js';
import { recordNotice } from '../src/notices/record-notice.js';
import { operationsMetrics } from '../src/operations/operations-metrics.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { migrated } from './helpers/factories.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { waitUntil } from './helpers/wait.js';

let db: TestDatabase;
let smtp: TestSmtp;
const senders: NoticeSender[] = [];

beforeAll(async () => {
  db = await createTestDatabase('notices');
  await migrated(db.pool);
  smtp = await startSmtp();
});
afterEach(async () => {
  for (const s of senders.splice(0)) await s.close(true);
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});

let keys = 0;
async function aNotice(email: string, language: 'da' | 'en' = 'da'): Promise<string> {
  const key = `agreement.approved:test-${++keys}`;
  await recordNotice(db.pool, {
    event: 'agreement.approved',
    key,
    addressees: [{ userId: null, email, language }],
    facts: { system: 'fagsystem-a', service: 'Sygedagpenge', authority: 'Aarhus Kommune', reason: '' },
  });
  const r = await db.pool.query<{ id: string }>('SELECT id::text FROM notices WHERE event_key = $1', [key]);
  return r.rows[0]!.id;
}

async function sender(o: Partial<SenderOptions> = {}): Promise<NoticeSender> {
  const s = await startNoticeSender({
    pool: db.pool,
    backend: { kind: 'postgres', databaseUrl: db.url, prefix: 'fu' },
    smtpUrl: smtp.url,
    mailFrom: 'advis@filudveksling.test',
    publicUrl: 'https://portal.test',
    attempts: 4,
    backoffMs: 20,
    pollMs: 50,
    ...o,
  });
  senders.push(s);
  return s;
}

/** A node that takes the outbox and dies at `hook`: it hangs there for good and is closed without waiting for its jobs. */
async function nodeDyingAt(hook: 'beforeCommit' | 'afterAccepted'): Promise<void> {
  let stuck!: () => void;
  const reached = new Promise<void>((resolve) => (stuck = resolve));
  const node = await sender({ hooks: { [hook]: () => (stuck(), new Promise<void>(() => undefined)) } });
  await reached;
  await node.close(true);
}

/** The node that comes after, ten minutes on: the dead node's claims are past their five-minute lease. */
const nextNode = () => sender({ now: () => new Date(Date.now() + 10 * 60_000), leaseMs: 5 * 60_000 });

const stateOf = async (id: string) =>
  (await db.pool.query<{ state: string; attempts: number; last_error: string | null }>('SELECT state, attempts, last_error FROM notices WHERE id = $1', [id])).rows[0]!;
const mailsTo = (email: string) => smtp.mails.filter((m) => m.to.includes(email));

describe('notice sender (SPEC §12)', () => {
  it('mails a notice once to its addressee only, in the language, with the portal link and the sender address', async () => {
    const id = await aNotice('a@kommune.test', 'en');
    await sender();
    await waitUntil('the mail', async () => (await stateOf(id)).state === 'sent');
    const mail = mailsTo('a@kommune.test')[0]!;
    expect(mail.to).toEqual(['a@kommune.test']);
    expect(mail.from).toBe('advis@filudveksling.test');
    expect(mail.subject).toBe('Agreement approved: fagsystem-a (Sygedagpenge)');
    expect(mail.data).toContain('https://portal.test/agreements');
    expect(await stateOf(id)).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('gets the mail through on the third attempt when the server refuses the first two (451)', async () => {
    smtp.refuseNext(2);
    const before = smtp.refused();
    const id = await aNotice('b@kommune.test');
    await sender();
    await waitUntil('the mail after two refusals', async () => (await stateOf(id)).state === 'sent');
    expect(mailsTo('b@kommune.test')).toHaveLength(1);
    expect(smtp.refused() - before).toBe(2);
    expect(await stateOf(id)).toMatchObject({ state: 'sent', attempts: 3 });
    expect(mailsTo('b@kommune.test')[0]!.subject).toBe('Serviceaftale godkendt: fagsystem-a (Sygedagpenge)');
  });

  it('marks a notice failed, naming the refusal, after the last attempt', async () => {
    smtp.refuseNext(2);
    const id = await aNotice('c@kommune.test');
    await sender({ attempts: 2 });
    await waitUntil('the notice to fail', async () => (await stateOf(id)).state === 'failed');
    expect((await stateOf(id)).last_error).toMatch(/451/);
    expect(mailsTo('c@kommune.test')).toHaveLength(0);
  });

  it('a node stopping before the server accepted: the next node sends it, once', async () => {
    const id = await aNotice('d@kommune.test');
    await nodeDyingAt('beforeCommit'); // the node dies with the message written but its final line not sent
    expect((await stateOf(id)).state).toBe('sending');
    await nextNode();
    await waitUntil('the mail from the next node', async () => (await stateOf(id)).state === 'sent');
    expect(mailsTo('d@kommune.test')).toHaveLength(1);
  });

  it('a node stopping after the server accepted: never sent again (at most once), shown as uncertain', async () => {
    const id = await aNotice('e@kommune.test');
    await nodeDyingAt('afterAccepted');
    expect(mailsTo('e@kommune.test')).toHaveLength(1);
    const next = await nextNode();
    await next.poll();
    await waitUntil('the row to be uncertain', async () => (await stateOf(id)).state === 'uncertain');
    const other = await aNotice('e2@kommune.test'); // the next node keeps working: proof it looked
    await waitUntil('a later notice', async () => (await stateOf(other)).state === 'sent');
    expect(mailsTo('e@kommune.test')).toHaveLength(1);
  });

  describe('over TLS, the server\'s self-signed certificate trusted through SMTP_CA_FILE', () => {
    let tls: TestSmtp;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fu-notices-ca-'));
    });
    afterEach(async () => tls?.close());
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('STARTTLS: smtp:// to a server that offers it (serve\'s component, SMTP_CA_FILE from the configuration)', async () => {
      tls = await startSmtp({ tls: 'starttls' });
      const caFile = join(dir, 'smtp-ca.pem');
      await writeFile(caFile, tls.ca!);
      const id = await aNotice('tls1@kommune.test', 'en');
      const config = loadConfig({ DATA_DIR: '/nonexistent-notices', SMTP_URL: `${tls.url}?requireTLS=true`, SMTP_CA_FILE: caFile, MAIL_FROM: 'advis@filudveksling.test', PORTAL_PUBLIC_URL: 'https://portal.test' });
      const component = (await noticesComponent({ config, database: { pool: db.pool, url: db.url } as never, role: 'all' }))!;
      try {
        await waitUntil('the mail over STARTTLS', async () => (await stateOf(id)).state === 'sent');
      } finally {
        await component.stop();
      }
      expect(tls.mails.map((m) => ({ to: m.to, secure: m.secure, subject: m.subject }))).toEqual([
        { to: ['tls1@kommune.test'], secure: true, subject: 'Agreement approved: fagsystem-a (Sygedagpenge)' },
      ]);
    });

    it('an SMTP_CA_FILE that cannot be read stops the start naming the setting, the value and what to give', async () => {
      const caFile = join(dir, 'missing-ca.pem');
      const config = loadConfig({ DATA_DIR: '/nonexistent-notices', SMTP_URL: 'smtp://127.0.0.1:25', SMTP_CA_FILE: caFile });
      await expect(noticesComponent({ config, database: { pool: db.pool, url: db.url } as never, role: 'all' })).rejects.toThrow(
        `Bad value for SMTP_CA_FILE: "${caFile}" cannot be read (no such file) — give a PEM file`,
      );
    });

    it('implicit TLS: smtps://', async () => {
      tls = await startSmtp({ tls: 'implicit' });
      expect(tls.url).toMatch(/^smtps:/);
      const id = await aNotice('tls2@kommune.test');
      await sender({ smtpUrl: tls.url, tlsCa: tls.ca });
      await waitUntil('the mail over implicit TLS', async () => (await stateOf(id)).state === 'sent');
      expect(tls.mails.map((m) => ({ to: m.to, secure: m.secure }))).toEqual([{ to: ['tls2@kommune.test'], secure: true }]);
    });

    it('a certificate nothing vouches for is refused: the notice fails naming it, nothing is sent', async () => {
      tls = await startSmtp({ tls: 'implicit' });
      const id = await aNotice('tls3@kommune.test');
      await sender({ smtpUrl: tls.url, attempts: 1 });
      await waitUntil('the notice to fail', async () => (await stateOf(id)).state === 'failed');
      expect((await stateOf(id)).last_error).toMatch(/self[- ]signed certificate/);
      expect(tls.mails).toHaveLength(0);
      await db.pool.query(`DELETE FROM notices WHERE id = $1`, [id]); // not one of the failures the next tests count
    });
  });

  it('without SMTP_URL nothing is sent: notices stay pending in the outbox', async () => {
    const id = await aNotice('f@kommune.test');
    const config = loadConfig({ DATA_DIR: '/nonexistent-notices' });
    const component = await noticesComponent({ config, database: { pool: db.pool, url: db.url } as never, role: 'all' });
    await component!.stop();
    expect((await stateOf(id)).state).toBe('pending');
    expect(mailsTo('f@kommune.test')).toHaveLength(0);
  });

  it('notice list: --failed shows the failed and the uncertain ones; --to one address; --json', async () => {
    const env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: join(tmpdir(), `notices-cli-${process.pid}`) };
    const failed = await cli(['notice', 'list', '--failed', '--json'], env);
    expect(failed.code).toBe(0);
    const rows = failed.json<{ email: string; state: string; lastError: string }[]>();
    expect(rows.map((r) => `${r.email} ${r.state}`).sort()).toEqual(['c@kommune.test failed', 'e@kommune.test uncertain']);
    const one = await cli(['notice', 'list', '--to', 'A@kommune.test'], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/agreement\.approved +a@kommune\.test +sent +1 +Agreement approved: fagsystem-a/);
    expect(one.stdout).not.toContain('b@kommune.test');
    const status = await cli(['status'], env);
    expect(status.stdout).toContain('Notices: 1 waiting to be mailed; 2 failed (see `filudveksling notice list --failed`)');
  });

  it('/metrics: filudveksling_notices_failed and _pending from the outbox', async () => {
    const config = loadConfig({ DATA_DIR: '/nonexistent-notices' });
    const component = (await operationsMetrics({ config, database: { pool: db.pool, url: db.url } as never, role: 'all' }))!;
    try {
      const text = await registry.metrics();
      expect(text).toMatch(/^filudveksling_notices_failed 2$/m); // c (failed) and e (uncertain)
      expect(text).toMatch(/^filudveksling_notices_pending 1$/m); // f, no SMTP_URL
    } finally {
      await component.stop();
    }
  });
});
