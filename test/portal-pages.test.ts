/**
 * SPEC §11's pages for every role: each passes axe-core (no serious or critical violation), in
 * Danish and English; names, reasons and file names with `<script>` and quotes render as text;
 * what is outside a person's scope answers 404 and what the role may not do 403.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { changeAgreement, requestAgreements } from '../src/agreements/agreements.js';
import { setPrice } from '../src/prices/prices.js';
import { formatsFor } from '../src/portal/formats.js';
import { openRoutingQueue, queueBackend, retryPolicy } from '../src/router/routing-queue.js';
import type { Role } from '../src/accounts/roles.js';
import { launchBrowser, logIn, seriousViolations, type TestBrowser } from './helpers/browser.js';
import { addRoute, generateKeyPair, issueInfRef, registerSystem, type TestSystem } from './helpers/factories.js';
import { addPerson, apiToken, startPortal, type TestPortal, type TestPerson } from './helpers/portal.js';

const EVIL = `"><script>document.title='pwned'</script>'`;
let portal: TestPortal;
let browser: TestBrowser;
let sender: TestSystem;
let recipient: TestSystem;
let foreign: TestSystem;
let infref: string;
let transferId: string;
let agreementIds: number[];
let aarhusId: number;
const people: Partial<Record<Role, TestPerson>> = {};

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
  const pool = portal.pool;
  const dataDir = portal.config.dataDir;
  sender = await registerSystem(pool, { username: `afsender${EVIL.replace(/[/\\]/g, '')}`, vendor: `Leverandør ${EVIL}`, dataDir });
  recipient = await registerSystem(pool, { username: 'modtager-b', vendor: 'Anden leverandør', dataDir });
  foreign = await registerSystem(pool, { username: 'fremmed-system', vendor: 'Anden leverandør', dataDir });
  infref = (await issueInfRef(pool, sender.username, { approve: true, title: `Elevdata ${EVIL}` })).name;
  await addRoute(pool, { sender: sender.username, infref, recipient: recipient.username, authority: '0751' });
  const made = await requestAgreements(pool, { system: sender.username, service: 'send', authorities: ['0751', '0101', '0147'] }, 'admin@leverandor.dk');
  agreementIds = made.map((a) => a.id);
  await changeAgreement(pool, made[0]!.id, 'approve', {}, 'dpo@aarhus.dk');
  await changeAgreement(pool, made[1]!.id, 'reject', { reason: `Nej tak ${EVIL}` }, 'dpo@kk.dk');
  aarhusId = made[0]!.authorityId;
  transferId = await deliveredTransfer(sender, recipient, aarhusId, `udtraek ${EVIL}.csv`);
  const vendorId = sender.vendorId;
  people.operator = await addPerson(pool, { role: 'operator' });
  people['vendor-admin'] = await addPerson(pool, { role: 'vendor-admin', vendorId });
  people['vendor-user'] = await addPerson(pool, { role: 'vendor-user', vendorId });
  people['authority-admin'] = await addPerson(pool, { role: 'authority-admin', authorityId: aarhusId });
  people['authority-user'] = await addPerson(pool, { role: 'authority-user', authorityId: aarhusId });
  for (const role of Object.keys(people) as Role[]) await notice(people[role]!, 'agreement.approved', `Godkendt ${EVIL}`, `Begrundelse: ${EVIL}`, '/agreements');
  await notice(people['vendor-admin']!, 'account.reset', 'Ny adgangskode', 'Vælg en ny adgangskode via linket nedenfor', 'http://portal.test/reset/secret-token');
  await notice(people.operator!, 'transfer.failed', 'Overførsel fejlet', 'tekst', `/transfers/${transferId}`, { state: 'failed', attempts: 5, lastError: `451 mailbox busy ${EVIL}` });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await portal?.close();
});

/**
 * A delivered transfer as the router records it (the router's own tests drive real ones; here
 * only the pages' reading of the rows matters).
 */
async function deliveredTransfer(from: TestSystem, to: TestSystem, authorityId: number, fileName: string): Promise<string> {
  const id = randomUUID();
  const pool = portal.pool;
  await pool.query(
    `INSERT INTO transfers (id, sender_system_id, trigger_name, trigger_key, file_name, size_bytes, status, authority_id, received_at, finished_at, receipt_xml, infref_id)
     VALUES ($1::uuid, $2, $3, $7, $4, 123456, 'delivered', $5, now() - interval '40 days', now() - interval '40 days', $6,
             (SELECT id FROM infrefs WHERE owner_system_id = $2 LIMIT 1))`,
    [id, from.id, `${fileName}.trigger`, fileName, authorityId, `<Receipt>${EVIL.replace(/[<>&]/g, '')}</Receipt>`, `test-${id}`],
  );
  await pool.query(`INSERT INTO deliveries (transfer_id, recipient_system_id, status, placed_at, delivered_name, folder) VALUES ($1, $2, 'placed', now() - interval '40 days', $3, '0751')`, [id, to.id, fileName]);
  await pool.query(`INSERT INTO transfer_steps (transfer_id, step, at) VALUES ($1, 'received', now()), ($1, 'delivered', now())`, [id]);
  await pool.query(`UPDATE deliveries SET fetched_at = now() - interval '39 days' WHERE transfer_id = $1`, [id]);
  return id;
}

let notices = 0;

/** A notice (SPEC §12) in the outbox as src/notices records it, to one person. */
async function notice(to: TestPerson, event: string, subject: string, body: string, link: string, sent: { state?: string; attempts?: number; lastError?: string } = {}): Promise<void> {
  await portal.pool.query(
    `INSERT INTO notices (event, event_key, user_id, email, language, subject, body, link, state, attempts, last_error)
     VALUES ($1, $2, $3, $4, 'da', $5, $6, $7, $8, $9, $10)`,
    [event, `test:${++notices}`, to.id, to.email, subject, body, link, sent.state ?? 'pending', sent.attempts ?? 0, sent.lastError ?? null],
  );
}

const enc = encodeURIComponent;
function pagesOf(role: Role): string[] {
  const common = ['/agreements', `/agreements/${agreementIds[0]}`, '/transfers', `/transfers/${transferId}`, '/usage', '/usage?from=2020-01-01', '/notices'];
  const vendorSide = ['/systems', `/systems/${enc(sender.username)}`, '/infrefs', `/infrefs/${infref}`];
  if (role === 'operator') return [...common, ...vendorSide, '/systems/new', '/agreements/new', '/vendors', '/authorities', '/routes', '/prices', '/status', '/outbox', '/outbox?failed=yes', `/agreements/${agreementIds[2]}`, '/transfers?status=delivered'];
  if (role === 'vendor-admin') return [...common, ...vendorSide, '/systems/new', '/agreements/new', `/agreements/${agreementIds[2]}`];
  if (role === 'vendor-user') return [...common, ...vendorSide];
  return common;
}

async function pageAs(role: Role): Promise<Page> {
  const page = await browser.newPage();
  await logIn(page, portal.baseUrl, people[role]!);
  return page;
}

describe('every page of every role', () => {
  for (const role of ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'] as const) {
    it(`${role}: each page answers 200, shows names as text and passes axe-core`, async () => {
      const page = await pageAs(role);
      const problems: string[] = [];
      for (const path of pagesOf(role)) {
        const res = await page.goto(`${portal.baseUrl}${path}`);
        if (res?.status() !== 200) problems.push(`${path}: ${res?.status()}`);
        // Nothing a person typed becomes markup: the portal serves no script at all, and the title stays.
        if ((await page.locator('script').count()) > 0) problems.push(`${path}: a <script> element`);
        if ((await page.title()) === 'pwned') problems.push(`${path}: injected script ran`);
        for (const v of await seriousViolations(page)) problems.push(`${path}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
      }
      expect(problems).toEqual([]);
    }, 240_000); // the operator's 20 pages, each with axe-core, take over 2 minutes on a loaded machine
  }

  it('in English too (the switch), with the same accessible names as SPEC §11', async () => {
    const page = await pageAs('authority-admin');
    await page.goto(`${portal.baseUrl}/agreements`);
    await Promise.all([page.waitForURL(/\/agreements/), page.getByRole('button', { name: 'English' }).click()]);
    await page.goto(`${portal.baseUrl}/agreements/${agreementIds[0]}`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByRole('button', { name: 'Terminate' }).count()).toBe(1);
    expect(await page.getByLabel('Reason').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    for (const path of pagesOf('authority-admin')) {
      await page.goto(`${portal.baseUrl}${path}`);
      expect(await seriousViolations(page)).toEqual([]);
    }
    await Promise.all([page.waitForURL(/./), page.getByRole('button', { name: 'Dansk' }).click()]);
  }, 120_000);
});

describe('text stays text', () => {
  it('system names, reasons and file names with <script> and quotes are shown literally', async () => {
    const page = await pageAs('operator');
    await page.goto(`${portal.baseUrl}/agreements`);
    expect(await page.getByRole('cell', { name: sender.username, exact: true }).count()).toBe(3);
    expect(await page.getByRole('cell', { name: `Nej tak ${EVIL}`, exact: true }).count()).toBe(1);
    await page.goto(`${portal.baseUrl}/transfers`);
    expect(await page.getByRole('link', { name: `udtraek ${EVIL}.csv`, exact: true }).count()).toBe(1);
    // Per recipient: placed and fetched (with their times), not deleted yet.
    await page.goto(`${portal.baseUrl}/transfers/${transferId}`);
    const cells = await page.getByRole('row', { name: /modtager-b/ }).getByRole('cell').allInnerTexts();
    expect(cells.slice(0, 4).map((c) => (/\d{2}\.\d{2}\.\d{4}/.test(c) ? 'time' : c))).toEqual(['modtager-b', 'time', 'time', 'Nej']);
    await page.goto(`${portal.baseUrl}/systems/${enc(sender.username)}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(sender.username);
    expect(await page.getByText(`Leverandør ${EVIL}`, { exact: true }).count()).toBe(1);
    // How to connect: the server's host key fingerprints and a sample trigger with the system's UUID and its route's InfRef.
    expect(await page.getByText(/^SHA256:[A-Za-z0-9+/]{43}$/).count()).toBeGreaterThanOrEqual(2);
    const sample = await page.locator('pre.xml').first().innerText();
    expect(sample).toContain(`<SenderIt-system>${sender.uuid}</SenderIt-system>`);
    expect(sample).toContain(`<InfRef>${infref}</InfRef>`);
    await page.goto(`${portal.baseUrl}/infrefs/${infref}`);
    expect(await page.getByText(`Elevdata ${EVIL}`, { exact: true }).count()).toBe(1);
  }, 60_000);
});

describe('Forbrug', () => {
  it('the authority sees its usage with prices and the invoice basis (CSV too); the vendor sees counts, never prices', async () => {
    await setPrice(portal.pool, { model: 'per-use', service: 'fetch', perFile: '1.00', perGib: '0', from: '2020-01-01' }, 'test');
    const authority = await pageAs('authority-admin');
    await authority.goto(`${portal.baseUrl}/usage?from=2020-01-01`);
    expect(await authority.getByRole('columnheader', { name: 'Beløb' }).count()).toBeGreaterThan(0);
    // One file to one recipient, fetched: 1.00 kr. for the recipient's fetch.
    expect(await authority.getByRole('cell', { name: '1,00 kr.' }).count()).toBeGreaterThan(0);
    expect(await authority.getByRole('heading', { name: 'Fakturagrundlag' }).count()).toBe(1);
    const client = await portal.login(people['authority-admin']!);
    const csv = await client.get('/usage/invoice.csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\n')[0]).toMatch(/^quarter,authority,name,line,/);

    const vendor = await pageAs('vendor-admin');
    await vendor.goto(`${portal.baseUrl}/usage?from=2020-01-01`);
    expect(await vendor.getByRole('columnheader', { name: 'Filer' }).count()).toBeGreaterThan(0);
    expect(await vendor.getByRole('columnheader', { name: 'Beløb' }).count()).toBe(0);
    expect(await vendor.getByText('kr.').count()).toBe(0);
    const vendorClient = await portal.login(people['vendor-admin']!);
    expect((await vendorClient.get('/usage/invoice.csv')).status).toBe(403);
    expect(await (await vendorClient.get('/usage.csv?from=2020-01-01')).text()).not.toMatch(/amount/);
  }, 60_000);
});

describe('names people know', () => {
  /** The page's facts list (dt → dd), as a screen reader reads it. */
  async function facts(page: Page): Promise<Record<string, string>> {
    return page.locator('dl.facts').first().evaluate((dl) => {
      const out: Record<string, string> = {};
      for (const dt of dl.querySelectorAll('dt')) out[dt.textContent!.trim()] = (dt.nextElementSibling as HTMLElement).innerText.trim();
      return out;
    });
  }

  it("an agreement names its system's vendor: on its page for everyone, and in the authority's and operator's lists", async () => {
    const authority = await pageAs('authority-admin');
    await authority.goto(`${portal.baseUrl}/agreements/${agreementIds[0]}`);
    expect((await facts(authority))['Leverandør']).toBe(`Leverandør ${EVIL}`);
    await authority.goto(`${portal.baseUrl}/agreements`);
    const row = authority.getByRole('row').filter({ has: authority.getByRole('link', { name: new RegExp(`^Serviceaftale ${agreementIds[0]}:`) }) });
    expect(await authority.getByRole('columnheader', { name: 'Leverandør' }).count()).toBe(1);
    expect(await row.getByRole('cell', { name: `Leverandør ${EVIL}`, exact: true }).count()).toBe(1);
    // A vendor's own list does not repeat its name on every row; its agreement page still says it.
    const vendor = await pageAs('vendor-admin');
    await vendor.goto(`${portal.baseUrl}/agreements`);
    expect(await vendor.getByRole('columnheader', { name: 'Leverandør' }).count()).toBe(0);
    await vendor.goto(`${portal.baseUrl}/agreements/${agreementIds[0]}`);
    expect((await facts(vendor))['Leverandør']).toBe(`Leverandør ${EVIL}`);
  }, 60_000);

  it('a vendor without InfRefs is told where one comes from and what it does next', async () => {
    const other = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: recipient.vendorId });
    const page = await browser.newPage();
    await logIn(page, portal.baseUrl, other);
    await page.goto(`${portal.baseUrl}/infrefs`);
    expect(await page.locator('main .empty').innerText()).toBe(
      'I har ingen InfRefs endnu. KOMBIT udsteder en InfRef til et af jeres it-systemer; derefter indsender I dens GDPR-erklæring her.',
    );
    expect(await seriousViolations(page)).toEqual([]);
  }, 60_000);

  it('the routes page names each route\'s InfRef as triggers carry it (every version of its number), not the bare number', async () => {
    const operator = await pageAs('operator');
    await operator.goto(`${portal.baseUrl}/routes`);
    const number = infref.replace(/^FagsystemdefineredeDataRefGDPR(\d+)_\d+$/, '$1');
    const row = operator.getByRole('row').filter({ hasText: recipient.username });
    expect(await row.getByRole('cell', { name: `FagsystemdefineredeDataRefGDPR${number}_*`, exact: true }).count()).toBe(1);
  }, 60_000);
});

describe('dates and numbers in the person\'s language (formats.ts, the one formatter every page gets)', () => {
  it('Danish pages write days, times, sizes and amounts the Danish way; English pages the English way', async () => {
    // 23:30 UTC on 5 March is 6 March in Danish time, the day the pages say.
    await portal.pool.query(`UPDATE agreements SET requested_at = '2026-03-05T23:30:00Z' WHERE id = $1`, [agreementIds[2]]);
    const english = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: sender.vendorId, language: 'en' });
    const cells = (html: string, href: string) => {
      const row = html.slice(html.lastIndexOf('<tr>', html.indexOf(`href="${href}"`)));
      return [...row.slice(0, row.indexOf('</tr>')).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').replace(/\u00a0/g, ' ').trim());
    };
    const cases = [
      { person: people['vendor-admin']!, day: '06.03.2026', moment: /^\d{2}\.\d{2}\.\d{4},? \d{2}\.\d{2}\.\d{2}$/, size: '120,6 KiB' },
      { person: english, day: '06/03/2026', moment: /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}$/, size: '120.6 KiB' },
    ];
    for (const { person, day, moment, size } of cases) {
      const c = await portal.login(person);
      const agreements = cells(await (await c.get('/agreements')).text(), `/agreements/${agreementIds[2]}`);
      expect([person.email, agreements[5]]).toEqual([person.email, day]);
      const transfers = cells(await (await c.get('/transfers')).text(), `/transfers/${transferId}`);
      expect([person.email, transfers.some((x) => moment.test(x)), transfers.includes(size)]).toEqual([person.email, true, true]);
    }
  });

  it('a transfer\'s steps are named in the page\'s language, not by the router\'s identifiers', async () => {
    await portal.pool.query(`INSERT INTO transfer_steps (transfer_id, step, at) VALUES ($1, $2, now())`, [transferId, `placed:${recipient.username}`]);
    const english = await addPerson(portal.pool, { role: 'operator', language: 'en' });
    const cases = [
      [people.operator!, ['Trigger modtaget', 'Leveret', `Lagt i indbakken hos ${recipient.username}`]],
      [english, ['Trigger received', 'Delivered', `Placed in the inbox of ${recipient.username}`]],
    ] as const;
    for (const [person, names] of cases) {
      const html = await (await (await portal.login(person)).get(`/transfers/${transferId}`)).text();
      const steps = html.slice(html.indexOf('<ol class="steps">'), html.indexOf('</ol>', html.indexOf('<ol class="steps">')));
      const said = [...steps.matchAll(/<\/time> ([^<]*)<\/li>/g)].map((m) => m[1]!.trim());
      expect([person.email, [...said].sort()]).toEqual([person.email, [...names].sort()]);
    }
  });

  it('the status page says how long a recipient has not fetched in the page\'s language ("3 timer", "3 hours"), not an English "3 h"', async () => {
    const id = await deliveredTransfer(sender, recipient, aarhusId, 'ikke-hentet.csv');
    try {
      await portal.pool.query(`UPDATE deliveries SET status = 'delivered', placed_at = now() - interval '3 hours 5 minutes', fetched_at = NULL WHERE transfer_id = $1`, [id]);
      const english = await addPerson(portal.pool, { role: 'operator', language: 'en' });
      for (const [person, oldest] of [[people.operator!, '3 timer'], [english, '3 hours']] as const) {
        const html = await (await (await portal.login(person)).get('/status')).text();
        const row = new RegExp(`<tr><td>${recipient.username}</td><td class="num">1</td><td class="num">([^<]*)</td>`).exec(html);
        expect([person.email, row?.[1]]).toEqual([person.email, oldest]);
      }
    } finally {
      await portal.pool.query('DELETE FROM transfer_steps WHERE transfer_id = $1', [id]);
      await portal.pool.query('DELETE FROM deliveries WHERE transfer_id = $1', [id]);
      await portal.pool.query('DELETE FROM transfers WHERE id = $1', [id]);
    }
  });
});

describe('scope', () => {
  it('a vendor gets 404 for another vendor\'s system, an authority for another authority\'s agreement; a read-only user 403 for an action', async () => {
    const vendor = await portal.login(people['vendor-admin']!);
    expect((await vendor.get(`/systems/${foreign.username}`)).status).toBe(404);
    expect((await vendor.get('/systems/no-such-system')).status).toBe(404);
    expect((await vendor.get('/vendors')).status).toBe(403);
    const authority = await portal.login(people['authority-admin']!);
    expect((await authority.get(`/agreements/${agreementIds[1]}`)).status).toBe(404);
    expect((await authority.get('/agreements/999999')).status).toBe(404);
    expect((await authority.get('/systems')).status).toBe(404);
    expect((await authority.get(`/transfers/${randomUUID()}`)).status).toBe(404);
    const reader = await portal.login(people['authority-user']!);
    const before = await portal.pool.query(`SELECT status FROM agreements WHERE id = $1`, [agreementIds[0]]);
    const res = await reader.submit(`/agreements/${agreementIds[0]}/terminate`, { reason: 'no' }, { from: `/agreements/${agreementIds[0]}` });
    expect(res.status).toBe(403);
    expect((await portal.pool.query(`SELECT status FROM agreements WHERE id = $1`, [agreementIds[0]])).rows).toEqual(before.rows);
  });
});

describe('Overførsler: retry', () => {
  it('an operator retries a failed transfer: it is back in its state and the routing queue has the job', async () => {
    const id = await deliveredTransfer(sender, recipient, aarhusId, 'fejlet.csv');
    await portal.pool.query(`UPDATE transfers SET status = 'failed', error_code = 'DELIVERY_FAILED', error_text = 'disk full', decided_at = now() WHERE id = $1`, [id]);
    const operator = await portal.login(people.operator!);
    const res = await operator.submit(`/transfers/${id}/retry`, {}, { from: `/transfers/${id}` });
    expect(res.status).toBe(303);
    expect((await portal.pool.query(`SELECT status, retries FROM transfers WHERE id = $1`, [id])).rows).toEqual([{ status: 'validated', retries: 1 }]);
    const queue = openRoutingQueue(queueBackend(portal.config, portal.db.url), retryPolicy(portal.config));
    try {
      expect((await queue.getJob(`retry-${id}-1`))?.data).toEqual({ kind: 'transfer', transferId: id });
    } finally {
      await queue.close();
    }
  });
});

describe('Advis (SPEC §12)', () => {
  it('each person sees their own notices newest first, the subject linking to its page; invitations and resets without text or link', async () => {
    const vendor = await pageAs('vendor-admin');
    await vendor.goto(`${portal.baseUrl}/notices`);
    const rows = vendor.getByRole('row');
    expect(await rows.count()).toBe(4); // the header, the reset, the approval, the invitation (addPerson)
    const events = await Promise.all([1, 2, 3].map((i) => rows.nth(i).getByRole('cell').nth(1).innerText()));
    expect(events).toEqual(['Ny adgangskode', 'Serviceaftale godkendt', 'Invitation']);
    expect(await vendor.getByRole('link', { name: `Godkendt ${EVIL}`, exact: true }).getAttribute('href')).toBe('/agreements');
    expect(await vendor.getByRole('link', { name: 'Ny adgangskode' }).count()).toBe(0);
    expect(await vendor.getByText('secret-token').count()).toBe(0);
    expect(await vendor.getByText('Går som e-mail med et engangslink, der ikke vises her.').count()).toBe(2);
    expect(await vendor.getByRole('cell', { name: `Begrundelse: ${EVIL}`, exact: true }).count()).toBe(1);
    // No node mails notices here (no node at all): pending ones say so rather than waiting to be sent.
    expect(await vendor.getByText('Sendes ikke som e-mail (der er ingen mailserver sat op)').count()).toBe(3);
    // Nobody else's: the operator's failed transfer notice is not here.
    expect(await vendor.getByText('Overførsel fejlet').count()).toBe(0);
  }, 60_000);

  it('pages through many notices newest first, 50 at a time (keyset on the id, ordered as a number: 9 before 60 was the text order)', async () => {
    const reader = people['authority-user']!;
    for (let i = 1; i <= 60; i++) await notice(reader, 'agreement.requested', `Anmodning ${i}`, 'tekst', '/agreements');
    const c = await portal.login(reader);
    const first = await (await c.get('/notices')).text();
    expect(first.match(/Anmodning \d+/g)?.join(' ')).toBe(Array.from({ length: 50 }, (_, i) => `Anmodning ${60 - i}`).join(' '));
    expect(first).toContain('Anmodning 60');
    const next = /href="\/notices\?after=(\d+)" rel="next"/.exec(first)?.[1];
    expect(next).toBeDefined();
    const second = await (await c.get(`/notices?after=${next}`)).text();
    expect(second.match(/Anmodning \d+/g)).toEqual(['Anmodning 10', 'Anmodning 9', 'Anmodning 8', 'Anmodning 7', 'Anmodning 6', 'Anmodning 5', 'Anmodning 4', 'Anmodning 3', 'Anmodning 2', 'Anmodning 1']);
    expect(second).toContain(`Godkendt ${EVIL.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}`);
    expect(second).not.toContain('rel="next"');
  });

  it("the outbox is the operators': every notice with state, attempts and last error, failed ones on their own; 404 to anyone else", async () => {
    const operator = await pageAs('operator');
    // Newest first, 50 a page: the 60 notices of the paging test above lead the outbox.
    await operator.goto(`${portal.baseUrl}/outbox`);
    const subjects = await operator.getByRole('row').locator('td:nth-child(4)').allInnerTexts();
    expect(subjects).toEqual(Array.from({ length: 50 }, (_, i) => `Anmodning ${60 - i}`));
    await operator.getByRole('link', { name: 'Næste side' }).click();
    expect((await operator.getByRole('row').locator('td:nth-child(4)').allInnerTexts()).slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `Anmodning ${10 - i}`));
    expect(await seriousViolations(operator)).toEqual([]);
    await operator.goto(`${portal.baseUrl}/outbox?failed=yes`);
    const rows = operator.getByRole('row');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).getByRole('cell').allInnerTexts()).toEqual([expect.any(String), people.operator!.email, 'Overførsel fejlet', 'Overførsel fejlet', 'Fejlet', '5', `451 mailbox busy ${EVIL}`, '']);
    await operator.goto(`${portal.baseUrl}/outbox`);
    expect(await operator.getByRole('cell', { name: people['vendor-admin']!.email, exact: true }).count()).toBe(0); // older than the 60: page 2
    await operator.getByRole('link', { name: 'Næste side' }).click();
    expect(await operator.getByRole('cell', { name: people['vendor-admin']!.email, exact: true }).count()).toBe(3);
    for (const role of ['vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'] as const) {
      const c = await portal.login(people[role]!);
      expect([role, (await c.get('/outbox')).status]).toEqual([role, 404]);
      expect([role, (await c.get('/notices')).status]).toEqual([role, 200]);
    }
    expect((await portal.client().get('/notices')).status).toBe(303);
  }, 60_000);
});

describe('refusals in the person\'s language', () => {
  it('a refused agreement action or request is said from the catalogue, in Danish or English, never with the CLI\'s commands', async () => {
    const authority = await pageAs('authority-admin');
    // A stale page: the vendor withdrew the request meanwhile, and the authority presses Godkend.
    const [fetching] = await requestAgreements(portal.pool, { system: sender.username, service: 'fetch', authorities: ['0751'] }, 'admin@leverandor.dk');
    await authority.goto(`${portal.baseUrl}/agreements/${fetching!.id}`);
    await changeAgreement(portal.pool, fetching!.id, 'withdraw', {}, 'admin@leverandor.dk');
    await authority.getByRole('button', { name: 'Godkend' }).click();
    expect(await authority.getByRole('alert').innerText()).toBe(`Serviceaftale ${fetching!.id} har status «Trukket tilbage»; «Godkend» kan kun bruges, mens den har status «Afventer». Der kan laves en ny anmodning.`);

    const vendor = await pageAs('vendor-admin');
    await vendor.goto(`${portal.baseUrl}/agreements/new`);
    await vendor.getByLabel('Myndigheder').selectOption(['0751']);
    await vendor.getByRole('button', { name: 'Send anmodning' }).click();
    expect(await vendor.getByRole('alert').innerText()).toBe(
      `${sender.username} har allerede en afventende eller godkendt serviceaftale om afsendelse (send) med 0751 Aarhus. Se den under Serviceaftaler.`,
    );
    await vendor.getByRole('button', { name: 'English' }).click();
    await vendor.waitForURL(/\/agreements\/new/);
    await vendor.getByLabel('Authorities').selectOption(['0751']);
    await vendor.getByRole('button', { name: 'Send request' }).click();
    expect(await vendor.getByRole('alert').innerText()).toBe(`${sender.username} already has a pending or approved send agreement with 0751 Aarhus. See it under Service agreements.`);
    expect(await vendor.content()).not.toContain('filudveksling agreement');
    await vendor.getByRole('button', { name: 'Dansk' }).click();

    // The API says it in English, without the CLI's hint.
    const token = await apiToken(portal.pool, people['vendor-admin']!.email);
    const api = await fetch(`${portal.baseUrl}/api/v1/agreements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ system: sender.username, service: 'send', authorities: ['0751'] }),
    });
    expect(api.status).toBe(409);
    expect((await api.json()).detail).toBe(`${sender.username} already has a pending or approved send agreement with 0751 Aarhus. See it under Service agreements.`);
  }, 60_000);

  it('a refused route is said in Danish from the catalogue, without the CLI\'s commands, with what was typed kept', async () => {
    const operator = await pageAs('operator');
    await operator.goto(`${portal.baseUrl}/routes`);
    await operator.getByLabel('Afsender (it-system)').fill('ukendt-system');
    await operator.getByLabel('InfRef', { exact: true }).fill(infref);
    await operator.getByLabel('Modtager (it-system)').fill(recipient.username);
    await operator.getByLabel('Myndighed (kommunekode eller CVR-nummer)').fill('0751');
    await operator.getByRole('button', { name: 'Etablér rute' }).click();
    const alert = operator.getByRole('alert');
    expect(await alert.innerText()).toBe('Der findes intet it-system med brugernavnet «ukendt-system». Kontrollér navnet under It-systemer.');
    expect(await alert.locator('[lang="en"]').count()).toBe(0);
    // What was typed is still there.
    expect(await operator.getByLabel('Afsender (it-system)').inputValue()).toBe('ukendt-system');
    expect(await seriousViolations(operator)).toEqual([]);
  }, 60_000);
});

describe('a bad field keeps the page (JSON Schemas of the page routes)', () => {
  it('a terminate with a day that is no day shows the agreement again, naming the field and value, with the reason still typed', async () => {
    const authority = await portal.login(people['authority-admin']!);
    const before = await portal.pool.query(`SELECT status FROM agreements WHERE id = $1`, [agreementIds[0]]);
    const res = await authority.submit(`/agreements/${agreementIds[0]}/terminate`, { reason: 'Kontrakten er ophørt', effective: '31-12-2026' }, { from: `/agreements/${agreementIds[0]}` });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('«Gældende fra»: «31-12-2026» er ikke en dato; skriv den som ÅÅÅÅ-MM-DD, f.eks. 2026-12-31.');
    expect(html).toMatch(/<textarea id="terminate-reason" name="reason" rows="3" required>Kontrakten er ophørt<\/textarea>/);
    expect(html).toContain('name="effective" value="31-12-2026"');
    expect((await portal.pool.query(`SELECT status FROM agreements WHERE id = $1`, [agreementIds[0]])).rows).toEqual(before.rows);
  });

  it('list filters: a status that is none and a day that does not exist are named above the filters, which keep them', async () => {
    const vendor = await portal.login(people['vendor-admin']!);
    const list = await vendor.get('/agreements?status=bogus');
    expect(list.status).toBe(400);
    expect(await list.text()).toContain('«Status»: «bogus» er ikke en af mulighederne.');
    const transfers = await vendor.get('/transfers?since=2026-13-45&system=x');
    expect(transfers.status).toBe(400);
    const html = await transfers.text();
    expect(html).toContain('«Modtaget fra og med»: «2026-13-45» er ikke en dato');
    expect(html).toContain('name="since" value="2026-13-45"');
    expect(html).toContain('name="system" value="x"');
    // A day the pattern lets through that no calendar has is named too, not handed to the database.
    const rolled = await vendor.get('/transfers?since=2026-02-30');
    expect(rolled.status).toBe(400);
    expect(await rolled.text()).toContain('«Modtaget fra og med»: «2026-02-30» er ikke en dato');
  });

  it('an invitation with an over-long e-mail shows Brugere again with what was typed, not an error page', async () => {
    const operator = await portal.login(people.operator!);
    const email = `${'a'.repeat(330)}@example.dk`;
    const res = await operator.submit('/users/invite', { email, name: 'Ida Invitation', role: 'vendor-user', vendor: String(sender.vendorId) }, { from: '/users' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain(`«E-mail» må højst have 254 tegn; der står ${email.length}.`);
    expect(html).toContain('value="Ida Invitation"');
    expect(html).toContain(`value="${email}"`);
  });

  it('an invitation with a name longer than the accounts allow (200) names the field and keeps the form; 200 is taken', async () => {
    const operator = await portal.login(people.operator!);
    const invite = (name: string, email: string) => operator.submit('/users/invite', { email, name, role: 'vendor-user', vendor: String(sender.vendorId) }, { from: '/users' });
    const res = await invite('N'.repeat(201), 'navn201@example.dk');
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('«Navn» må højst have 200 tegn; der står 201.');
    expect(html).toContain(`value="${'N'.repeat(201)}"`);
    expect(html).toContain('value="navn201@example.dk"');
    expect(html).toMatch(/id="invite-name" name="name" type="text" maxlength="200"/);
    expect((await portal.pool.query('SELECT 1 FROM users WHERE email = $1', ['navn201@example.dk'])).rowCount).toBe(0);
    expect((await invite('N'.repeat(200), 'navn200@example.dk')).status).toBe(200);
    expect((await portal.pool.query('SELECT length(name) AS n FROM users WHERE email = $1', ['navn200@example.dk'])).rows).toEqual([{ n: 200 }]);
  });

  it('the login form with an over-long e-mail says so and keeps it; one with no fields at all says what is missing', async () => {
    const c = portal.client();
    const email = `${'b'.repeat(321)}@example.dk`;
    const res = await c.submit('/login', { email, password: 'x' }, { from: '/login' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain(`«E-mail» må højst have 254 tegn; der står ${email.length}.`);
    expect(html).toContain(`value="${email}"`);
    const empty = await c.submit('/login', {}, { from: '/login' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('«E-mail» skal udfyldes.');
  });

  it('a bad id in the path is a page that does not exist (404), as before', async () => {
    const vendor = await portal.login(people['vendor-admin']!);
    expect((await vendor.get('/agreements/abc')).status).toBe(404);
    expect((await vendor.submit('/agreements/abc/withdraw', {}, { from: '/agreements' })).status).toBe(404);
  });
});

describe("the portal's clock", () => {
  it("an agreement's page offers and checks the termination day by the portal's clock, not the machine's", async () => {
    const later = await startPortal({ db: portal.db, clock: () => new Date('2031-03-10T09:00:00Z') });
    try {
      const system = await registerSystem(portal.pool, { username: 'ur-system', vendor: 'Anden leverandør', dataDir: portal.config.dataDir });
      const [made] = await requestAgreements(portal.pool, { system: system.username, service: 'send', authorities: ['0751'] }, 'admin@anden.dk');
      await changeAgreement(portal.pool, made!.id, 'approve', {}, 'dpo@aarhus.dk');
      const authority = await later.login(people['authority-admin']!);
      expect(await (await authority.get(`/agreements/${made!.id}`)).text()).toContain('name="effective" value="2031-03-10" min="2031-03-10"');

      // Before the portal's today, though after the machine's: refused, naming the portal's today.
      const past = await authority.submit(`/agreements/${made!.id}/terminate`, { reason: 'Kontrakten er ophørt', effective: '2031-03-01' }, { from: `/agreements/${made!.id}` });
      expect(past.status).toBe(400);
      expect(await past.text()).toContain('Opsigelsen kan ikke gælde fra 2031-03-01, der er før i dag; vælg i dag (2031-03-10) eller en senere dag.');
      // No day given: from the portal's today.
      expect((await authority.submit(`/agreements/${made!.id}/terminate`, { reason: 'Kontrakten er ophørt', effective: '' }, { from: `/agreements/${made!.id}` })).status).toBe(303);
      const { rows } = await portal.pool.query(`SELECT status, to_char(effective_on, 'YYYY-MM-DD') AS effective FROM agreements WHERE id = $1`, [made!.id]);
      expect(rows).toEqual([{ status: 'terminated', effective: '2031-03-10' }]);
    } finally {
      await later.close();
    }
  });
});

describe('Priser (SPEC §11: operator … prices)', () => {
  it('an operator sets a buffet and a per-use price on the page, each bad field named; no one else has the page', async () => {
    const operator = await portal.login(people.operator!);
    expect(await (await operator.get('/')).text()).toContain('href="/prices"');
    const from = '2027-01-01';

    const bad = await operator.submit('/prices', { model: 'per-use', service: '', from, perInhabitant: '', perFile: 'abc', perGib: '10' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('«Kr. pr. fil (forbrugsafregnet)»: «abc» er ikke et beløb i kroner; skriv det med højst to decimaler, f.eks. 12,50.');
    expect(badHtml).toContain('name="perFile" inputmode="decimal" value="abc"');
    const missing = await operator.submit('/prices', { model: 'per-use', service: '', from, perInhabitant: '', perFile: '0,25', perGib: '10' });
    expect([missing.status, await missing.text()]).toEqual([400, expect.stringContaining('«Service (forbrugsafregnet)» skal udfyldes.')]);

    const buffet = await operator.submit('/prices', { model: 'buffet', service: '', from, perInhabitant: '12,50', perFile: '', perGib: '' });
    expect([buffet.status, buffet.headers.get('location')]).toEqual([303, '/prices?done=price-set']);
    expect((await operator.submit('/prices', { model: 'per-use', service: 'fetch', from, perInhabitant: '', perFile: '0,25', perGib: '10' })).status).toBe(303);
    const html = await (await operator.get('/prices?done=price-set')).text();
    expect(html).toContain('Prisen er sat.');
    for (const ore of [1250, 25, 1000]) expect(html).toContain(formatsFor('da').dkk(ore));

    const { rows } = await portal.pool.query(
      `SELECT model, service, per_inhabitant_ore AS "perInhabitant", per_file_ore AS "perFile", per_gib_ore AS "perGib" FROM prices WHERE valid_from = $1 ORDER BY model`,
      [from],
    );
    expect(rows).toEqual([
      { model: 'buffet', service: '', perInhabitant: 1250, perFile: null, perGib: null },
      { model: 'per-use', service: 'fetch', perInhabitant: null, perFile: 25, perGib: 1000 },
    ]);
    const trail = await portal.pool.query("SELECT actor FROM audit_log WHERE entity = 'price' AND action = 'price.set' AND after->>'validFrom' = $1", [from]);
    expect(trail.rows).toEqual([{ actor: people.operator!.email }, { actor: people.operator!.email }]);

    for (const role of ['vendor-admin', 'authority-admin'] as const) {
      const other = await portal.login(people[role]!);
      expect(await (await other.get('/')).text()).not.toContain('href="/prices"');
      expect((await other.get('/prices')).status).toBe(403);
      expect((await other.submit('/prices', { model: 'buffet', from: '2028-01-01', perInhabitant: '1' }, { from: '/' })).status).toBe(403);
    }
    expect((await portal.pool.query("SELECT count(*)::int AS n FROM prices WHERE valid_from = '2028-01-01'")).rows[0].n).toBe(0);
  });
});

describe('the operator on the vendor-admins\' pages (SPEC §11: operator … all of the above)', () => {
  it('registers a system for a vendor it names, requests an agreement for it and sends its InfRef\'s declaration', async () => {
    const operator = await portal.login(people.operator!);
    const multipart = async (path: string, fields: Record<string, string>, file?: { field: string; name: string; data: string }) => {
      await operator.get(path);
      const form = new FormData();
      form.append('_csrf', operator.csrf);
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      if (file) form.append(file.field, new Blob([file.data]), file.name);
      return operator.fetch(path, { method: 'POST', body: form });
    };
    expect(await (await operator.get('/systems')).text()).toContain('href="/systems/new"');
    const key = { username: 'drift-system', uuid: '', inbox: '', metadata: '', sshPublicKey: generateKeyPair().publicKey };
    const noVendor = await multipart('/systems/new', { ...key, vendor: '' });
    expect([noVendor.status, await noVendor.text()]).toEqual([400, expect.stringContaining('«Leverandør» skal udfyldes.')]);
    const made = await multipart('/systems/new', { ...key, vendor: 'Anden leverandør' });
    expect([made.status, made.headers.get('location')]).toEqual([303, '/systems/drift-system?done=registered']);
    expect((await portal.pool.query("SELECT v.name FROM systems s JOIN vendors v ON v.id = s.vendor_id WHERE s.username = 'drift-system'")).rows).toEqual([{ name: 'Anden leverandør' }]);

    expect(await (await operator.get('/agreements')).text()).toContain('href="/agreements/new"');
    expect((await operator.submit('/agreements/new', { system: 'drift-system', service: 'send', authorities: '0751' })).status).toBe(303);
    const asked = await portal.pool.query("SELECT g.status, g.requested_by AS by FROM agreements g JOIN systems s ON s.id = g.system_id WHERE s.username = 'drift-system'");
    expect(asked.rows).toEqual([{ status: 'requested', by: people.operator!.email }]);

    const { name } = await issueInfRef(portal.pool, 'drift-system');
    expect(await (await operator.get(`/infrefs/${name}`)).text()).toContain('Indsend GDPR-erklæring');
    const sent = await multipart(`/infrefs/${name}/declaration`, {}, { field: 'document', name: 'erklæring.pdf', data: '%PDF-1.7' });
    expect([sent.status, sent.headers.get('location')]).toEqual([303, `/infrefs/${name}?done=uploaded`]);
    const declared = await portal.pool.query('SELECT d.status, d.received_by AS by FROM gdpr_declarations d JOIN infrefs i ON i.id = d.infref_id WHERE i.number = $1', [Number(/GDPR(\d+)_/.exec(name)![1])]);
    expect(declared.rows).toEqual([{ status: 'pending', by: people.operator!.email }]);
  });
});

describe("a system's routes", () => {
  it("a receiving system's page names the routes that deliver to it: InfRef, sender and authority", async () => {
    const page = await pageAs('operator');
    try {
      await page.goto(`${portal.baseUrl}/systems/${recipient.username}`);
      const incoming = page.getByRole('table', { name: 'Ruter til it-systemet' });
      expect(await incoming.getByRole('row').filter({ hasText: sender.username }).getByRole('cell').allInnerTexts()).toEqual([infref.replace(/_\d+$/, '_*'), sender.username, '0751 Aarhus']);
      // The sender's page names its own (outgoing) routes as before, and none coming in.
      await page.goto(`${portal.baseUrl}/systems/${enc(sender.username)}`);
      expect(await page.getByRole('table', { name: 'Ruter til it-systemet' }).count()).toBe(0);
    } finally {
      await page.close();
    }
  });
});

describe('Serviceaftaler at volume', () => {
  it('pages the agreements 100 at a time, oldest first, keeping the status filter', async () => {
    const system = await registerSystem(portal.pool, { username: 'mange-aftaler', vendor: 'Anden leverandør', dataDir: portal.config.dataDir });
    await requestAgreements(portal.pool, { system: system.username, service: 'fetch', authorities: 'all-municipalities' }, 'admin@anden.dk');
    const all = (await portal.pool.query<{ id: number }>('SELECT id FROM agreements ORDER BY id')).rows.map((r) => r.id);
    const requested = (await portal.pool.query<{ id: number }>("SELECT id FROM agreements WHERE status = 'requested' ORDER BY id")).rows.map((r) => r.id);
    expect(all.length).toBeGreaterThan(100);
    const operator = await portal.login(people.operator!);
    const walk = async (path: string) => {
      const ids: number[] = [];
      for (let next: string | undefined = path; next; ) {
        const html = await (await operator.get(next)).text();
        const page = [...html.matchAll(/<td><a href="\/agreements\/(\d+)"/g)].map((m) => Number(m[1]));
        expect(page.length).toBeLessThanOrEqual(100);
        ids.push(...page);
        next = /<a href="(\/agreements\?[^"]*)" rel="next">/.exec(html)?.[1]?.replace(/&amp;/g, '&');
        if (ids.length > all.length) break;
      }
      return ids;
    };
    expect(await walk('/agreements')).toEqual(all);
    expect(await walk('/agreements?status=requested')).toEqual(requested);
  });
});
