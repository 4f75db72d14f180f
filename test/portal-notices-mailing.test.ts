/**
 * Issue 9: notices are mailed only by nodes of role all or router with SMTP_URL. Each node says in
 * its `nodes` row whether it mails; while no live node does, the operator's Udbakke says so and
 * what to do, a person's Advis shows pending notices as not mailed, and `filudveksling status`
 * shows the flag per node. The node rows are written here as the real nodes write them; the last
 * test starts a real `serve` with SMTP_URL pointing at a real SMTP server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordNotice } from '../src/notices/record-notice.js';
import { da } from '../src/portal/i18n/da.js';
import { en } from '../src/portal/i18n/en.js';
import { cli, freePort, startServe } from './helpers/cli.js';
import { createVendor } from './helpers/factories.js';
import { addPerson, startPortal, type PortalClient, type TestPerson, type TestPortal } from './helpers/portal.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { waitUntil } from './helpers/wait.js';

let portal: TestPortal;
let smtp: TestSmtp;
let vendorAdmin: TestPerson;
let operator: PortalClient;
let englishOperator: PortalClient;
let person: PortalClient;
let noticeId: number;

beforeAll(async () => {
  portal = await startPortal();
  smtp = await startSmtp();
  const vendor = await createVendor(portal.pool, 'Leverandør Advis');
  vendorAdmin = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: vendor.id, email: 'advis@leverandor.test' });
  [operator, englishOperator, person] = await Promise.all([
    addPerson(portal.pool, { role: 'operator' }).then((p) => portal.login(p)),
    addPerson(portal.pool, { role: 'operator', language: 'en' }).then((p) => portal.login(p)),
    portal.login(vendorAdmin),
  ]);
  noticeId = await recordNotice(portal.pool, {
    event: 'agreement.approved',
    key: 'agreement.approved:mailing-test',
    addressees: [{ userId: vendorAdmin.id, email: vendorAdmin.email, language: 'da' }],
    facts: { system: 'fagsystem-a', service: 'Sygedagpenge', authority: 'Aarhus Kommune', reason: '' },
  });
}, 60_000);
afterAll(async () => {
  await portal?.close();
  await smtp?.close();
});

const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const page = async (c: PortalClient, path: string) => {
  const res = await c.get(path);
  expect(res.status).toBe(200);
  return unescape(await res.text());
};

/** A node's row as node-heartbeat.ts and notices-component.ts write it. */
async function node(id: string, o: { role: string; mails: boolean; seenSecondsAgo?: number; stopped?: boolean }): Promise<void> {
  await portal.pool.query(
    `INSERT INTO nodes (id, hostname, pid, role, last_seen, stopped_at, mails_notices)
     VALUES ($1, 'host', 1, $2, now() - make_interval(secs => $3), CASE WHEN $4 THEN now() END, $5)`,
    [id, o.role, o.seenSecondsAgo ?? 0, o.stopped ?? false, o.mails],
  );
}

describe('whether anybody mails notices (issue 9)', () => {
  it('no live node mails: Udbakke says so and what to do; Advis shows pending notices as not mailed', async () => {
    await node('portal-only', { role: 'portal', mails: false });
    await node('router-stopped', { role: 'router', mails: true, stopped: true });
    await node('router-silent', { role: 'router', mails: true, seenSecondsAgo: 120 });

    const outbox = await page(operator, '/outbox');
    expect(outbox).toContain(da['outbox.unmailed']);
    expect(outbox).toContain(da['outbox.unmailed.todo']);
    expect(outbox).toMatch(/Ingen kørende node sender e-mail\.[\s\S]*Sæt SMTP_URL på noderne med rollen router \(eller all\), og genstart dem/);
    expect(outbox.indexOf(da['outbox.unmailed'])).toBeLessThan(outbox.indexOf('<table'));
    // The outbox's own state column is the operator's: still what the row says.
    expect(outbox).toContain(`>${da['notices.state.pending']}<`);
    const english = await page(englishOperator, '/outbox');
    expect(english).toContain('No running node sends mail.');
    expect(english).toContain(en['outbox.unmailed.todo']);

    const advis = await page(person, '/notices');
    expect(advis).toContain('Serviceaftale godkendt');
    expect(advis).toContain(`>${da['notices.state.unmailed']}<`);
    expect(advis).not.toContain(da['notices.state.pending']);
  });

  it('a live node mails: nothing changes (no word in Udbakke, pending notices wait to be sent)', async () => {
    await node('router-mailing', { role: 'router', mails: true, seenSecondsAgo: 5 });
    try {
      const outbox = await page(operator, '/outbox');
      expect(outbox).not.toContain(da['outbox.unmailed']);
      expect(outbox).not.toContain('flash-warning');
      const advis = await page(person, '/notices');
      expect(advis).toContain(`>${da['notices.state.pending']}<`);
      expect(advis).not.toContain(da['notices.state.unmailed']);
    } finally {
      await portal.pool.query(`DELETE FROM nodes WHERE id = 'router-mailing'`);
    }
  });

  it('the status page shows per live node whether it mails (yes/no), and the hint only while nodes run and none mails', async () => {
    /** The nodes table's rows: [role, mails notices]. */
    const nodeRows = (html: string) => [...html.matchAll(/<tr><td>[^<]*<\/td><td>([^<]*)<\/td><td class="num">[^<]*<\/td><td>([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
    // Live: portal-only (not mailing); the stopped and the silent router are not running.
    let status = await page(operator, '/status');
    expect(status).toContain('<th scope="col">Sender advis</th>');
    expect(nodeRows(status)).toEqual([['portal', 'Nej']]);
    expect(status).toContain(da['outbox.unmailed']);
    expect(status).toContain(da['outbox.unmailed.todo']);
    const english = await page(englishOperator, '/status');
    expect(english).toContain('<th scope="col">Mails notices</th>');
    expect(nodeRows(english)).toEqual([['portal', 'No']]);
    expect(english).toContain(en['outbox.unmailed.todo']);

    await node('router-mailing', { role: 'router', mails: true, seenSecondsAgo: 5 });
    try {
      status = await page(operator, '/status');
      expect(nodeRows(status)).toEqual([['portal', 'Nej'], ['router', 'Ja']]);
      expect(status).not.toContain(da['outbox.unmailed']);
      expect(status).not.toContain('flash-warning');
    } finally {
      await portal.pool.query(`DELETE FROM nodes WHERE id = 'router-mailing'`);
    }
    // No node running at all: nothing to say of mail (as the CLI says nothing).
    await portal.pool.query(`UPDATE nodes SET stopped_at = now() WHERE id = 'portal-only'`);
    status = await page(operator, '/status');
    expect(nodeRows(status)).toEqual([]);
    expect(status).not.toContain(da['outbox.unmailed']);
  });

  it('a real serve with SMTP_URL says it mails (status, portal), mails the waiting notice, and no longer once stopped', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fu-mailing-'));
    const env = { DATABASE_URL: portal.db.url, FILUDVEKSLING_DATA: dataDir, HTTP_PORT: String(await freePort()), SFTP_PORT: String(await freePort()) };
    await portal.pool.query('DELETE FROM nodes'); // the rows of the tests above
    const server = await startServe({ ...env, SMTP_URL: smtp.url, MAIL_FROM: 'advis@filudveksling.test' });
    try {
      const status = await cli(['status', '--json'], env);
      expect(status.code).toBe(0);
      expect(status.json<{ nodes: { role: string; mailsNotices: boolean }[] }>().nodes.map((n) => [n.role, n.mailsNotices])).toEqual([['all', true]]);
      const human = await cli(['status'], env);
      expect(human.stdout).toMatch(/ROLE +SESSIONS +MAILS NOTICES/);
      expect(human.stdout).toMatch(/ all +0 +yes /);
      expect(human.stdout).not.toContain('No running node mails them');

      expect(await page(operator, '/outbox')).not.toContain(da['outbox.unmailed']);
      await waitUntil('the waiting notice to be mailed', async () => smtp.mails.some((m) => m.to.includes(vendorAdmin.email) && m.subject.startsWith('Serviceaftale godkendt')));
      await waitUntil('the outbox row to say sent', async () => (await portal.pool.query<{ state: string }>('SELECT state FROM notices WHERE id = $1', [noticeId])).rows[0]!.state === 'sent');
    } finally {
      expect(await server.stop()).toBe(0);
      await rm(dataDir, { recursive: true, force: true });
    }
    expect((await portal.pool.query('SELECT mails_notices FROM nodes')).rows).toEqual([{ mails_notices: false }]);
    expect(await page(operator, '/outbox')).toContain(da['outbox.unmailed']);
    await node('portal-only', { role: 'portal', mails: false });
    const after = await cli(['status'], env);
    expect(after.stdout).toMatch(/portal +0 +no /);
    expect(after.stdout).toContain('No running node mails them: they stay in the outbox and are shown only in the portal. Set SMTP_URL on the nodes of role router (or all) and restart them.');
  }, 60_000);
});
