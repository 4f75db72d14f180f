/**
 * Serviceaftaler's filters (issue 9): system and authority beside status, as the API's
 * `GET /agreements` has them, each within what the person may see; a bad value is a 400 page naming
 * it, and the next page keeps the filters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ALL_MUNICIPALITIES, changeAgreement, requestAgreements } from '../src/agreements/agreements.js';
import { registerSystem } from './helpers/factories.js';
import { addPerson, startPortal, type PortalClient, type TestPerson, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
let operator: TestPerson;
let vendorA: TestPerson;
let aarhus: TestPerson;
const BY = 'admin@leverandor.dk';

beforeAll(async () => {
  portal = await startPortal();
  const pool = portal.pool;
  const dataDir = portal.config.dataDir;
  const aOne = await registerSystem(pool, { username: 'filter-a-one', vendor: 'Filter A/S', dataDir });
  await registerSystem(pool, { username: 'filter-a-two', vendor: 'Filter A/S', dataDir });
  await registerSystem(pool, { username: 'filter-b-one', vendor: 'Filter B/S', dataDir });
  await registerSystem(pool, { username: 'filter-b-two', vendor: 'Filter B/S', dataDir });
  // filter-a-one asks every municipality for both services: 196 agreements, two pages of 100.
  for (const service of ['send', 'fetch']) await requestAgreements(pool, { system: 'filter-a-one', service, authorities: ALL_MUNICIPALITIES }, BY);
  const [aTwoAarhus] = await requestAgreements(pool, { system: 'filter-a-two', service: 'send', authorities: ['0751', '0101'] }, BY);
  await changeAgreement(pool, aTwoAarhus!.id, 'approve', {}, 'dpo@aarhus.dk');
  await requestAgreements(pool, { system: 'filter-b-one', service: 'fetch', authorities: ['0751'] }, BY);
  // filter-b-two has no agreement with Aarhus: Aarhus's people do not know of it.
  await requestAgreements(pool, { system: 'filter-b-two', service: 'fetch', authorities: ['0101'] }, BY);
  // Fifty more systems ask Aarhus for both services: with the four above, 103 pending at Aarhus.
  for (let i = 0; i < 50; i++) {
    const { username } = await registerSystem(pool, { username: `filter-c-${String(i).padStart(2, '0')}`, vendor: 'Filter C/S', dataDir });
    for (const service of ['send', 'fetch']) await requestAgreements(pool, { system: username, service, authorities: ['0751'] }, BY);
  }
  const aarhusId = (await pool.query<{ id: number }>(`SELECT id FROM authorities WHERE kommunekode = '0751'`)).rows[0]!.id;
  operator = await addPerson(pool, { role: 'operator' });
  vendorA = await addPerson(pool, { role: 'vendor-admin', vendorId: aOne.vendorId });
  aarhus = await addPerson(pool, { role: 'authority-admin', authorityId: aarhusId });
}, 60_000);

afterAll(async () => {
  await portal?.close();
});

/** The list's rows as "system|service|authority|status". */
function rowsOf(html: string): string[] {
  const body = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => {
    const cells = [...row[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim());
    // Number, system, [vendor,] service, authority, status, requested, reason.
    const withVendor = cells.length === 8;
    return [cells[1], ...cells.slice(withVendor ? 3 : 2, withVendor ? 6 : 5)].join('|');
  });
}

/** The paging links' queries, as they stand in the page (ampersands unescaped). */
function link(html: string, rel: 'next' | 'first'): string | undefined {
  const pattern = rel === 'next' ? /<a href="\/agreements\?([^"]*)" rel="next">/ : /<a href="\/agreements(?:\?([^"]*))?">(?:Første|First)/;
  const m = pattern.exec(html);
  return m ? (m[1] ?? '').replace(/&amp;/g, '&') : undefined;
}

/** The problems named above the filters. */
function problems(html: string): string[] {
  const box = /<div class="flash flash-problem" role="alert">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  return [...box.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => m[1]!.replace(/&laquo;|&#171;/g, '«').replace(/&raquo;|&#187;/g, '»'));
}

async function page(client: PortalClient, query: string): Promise<{ status: number; html: string }> {
  const res = await client.get(`/agreements?${query}`);
  return { status: res.status, html: await res.text() };
}

describe('Serviceaftaler filtered by system and authority', () => {
  it('filters by system, and shows the system typed in the form', async () => {
    const asOperator = await portal.login(operator);
    const { status, html } = await page(asOperator, 'system=filter-a-two');
    expect(status).toBe(200);
    expect(rowsOf(html)).toEqual([expect.stringMatching(/^filter-a-two\|.*\|0751 Aarhus\|/), expect.stringMatching(/^filter-a-two\|.*\|0101 København\|/)]);
    // Operators see thousands of systems: a text field, labelled and described, with the value kept.
    expect(html).toMatch(/<label for="system">It-system<\/label>/);
    expect(html).toMatch(/<input id="system" name="system"[^>]* aria-describedby="system-hint" value="filter-a-two">/);
    // A vendor picks among its own systems.
    const own = (await page(await portal.login(vendorA), 'system=filter-a-two')).html;
    expect(rowsOf(own)).toHaveLength(2);
    expect(own).toContain('<option value="filter-a-two" selected>filter-a-two</option>');
  });

  it('filters by authority, by kommunekode in either form, the chosen one selected', async () => {
    const asVendor = await portal.login(vendorA);
    for (const given of ['0101', '101']) {
      const { status, html } = await page(asVendor, `authority=${given}`);
      expect(status).toBe(200);
      expect(rowsOf(html).sort()).toEqual(['filter-a-one|Afhentning (fetch)|0101 København|Afventer', 'filter-a-one|Afsendelse (send)|0101 København|Afventer', 'filter-a-two|Afsendelse (send)|0101 København|Afventer']);
      expect(html).toMatch(/<label for="authority">Myndighed<\/label>\s*<select id="authority" name="authority">/);
      expect(html).toContain('<option value="0101" selected>0101 København</option>');
    }
  });

  it('filters by system and authority together with status', async () => {
    const asOperator = await portal.login(operator);
    const approved = await page(asOperator, 'status=approved&system=filter-a-two&authority=0751');
    expect(approved.status).toBe(200);
    expect(rowsOf(approved.html)).toEqual(['filter-a-two|Afsendelse (send)|0751 Aarhus|Godkendt']);
    const requested = await page(asOperator, 'status=requested&system=filter-a-two&authority=0751');
    expect(rowsOf(requested.html)).toEqual([]);
    expect(requested.html).toContain('<option value="0751" selected>0751 Aarhus</option>');
    expect(requested.html).toContain('<option value="requested" selected>');
  });

  it('keeps a vendor to its own systems: another vendor’s is answered as one that does not exist', async () => {
    const asVendor = await portal.login(vendorA);
    const form = (await page(asVendor, '')).html;
    const options = [...form.slice(form.indexOf('<select id="system"')).split('</select>')[0]!.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(options).toEqual(['', 'filter-a-one', 'filter-a-two']);
    const foreign = await page(asVendor, 'system=filter-b-one');
    const unknown = await page(asVendor, 'system=filter-nobody');
    expect([foreign.status, unknown.status]).toEqual([400, 400]);
    expect(problems(foreign.html)).toEqual(['«It-system»: «filter-b-one» er ikke et af jeres it-systemer; vælg et fra listen.']);
    expect(problems(unknown.html)).toEqual(problems(foreign.html).map((p) => p.replace('filter-b-one', 'filter-nobody')));
    expect(rowsOf(foreign.html).every((r) => r.startsWith('filter-a-'))).toBe(true);
    // An authority's people know the systems of their agreements; any other reads as unknown.
    const asAarhus = await portal.login(aarhus);
    expect(rowsOf((await page(asAarhus, 'system=filter-b-one')).html)).toEqual(['filter-b-one|Afhentning (fetch)|0751 Aarhus|Afventer']);
    const notOurs = await page(asAarhus, 'system=filter-b-two');
    const nobody = await page(asAarhus, 'system=filter-nobody');
    expect([notOurs.status, nobody.status]).toEqual([400, 400]);
    expect(problems(notOurs.html)).toEqual(['«It-system»: du kan ikke se noget it-system med brugernavnet «filter-b-two»; skriv brugernavnet, som det står i kolonnen «It-system», eller lad feltet stå tomt.']);
    expect(problems(nobody.html)).toEqual(problems(notOurs.html).map((p) => p.replace('filter-b-two', 'filter-nobody')));
    // Their one authority is no choice: the form has no such field.
    expect(notOurs.html).not.toContain('id="authority"');
  });

  it('names a bad authority with what to write instead, as a 400 page', async () => {
    const asOperator = await portal.login(operator);
    const malformed = await page(asOperator, 'authority=Aarhus%20K');
    expect(malformed.status).toBe(400);
    expect(problems(malformed.html)).toEqual(['«Myndighed»: «Aarhus K» er hverken en kommunekode (3–4 cifre, f.eks. 0751) eller et CVR-nummer (8 cifre); vælg en myndighed fra listen.']);
    const unknown = await page(asOperator, 'authority=0999&system=filter-a-two');
    expect(unknown.status).toBe(400);
    expect(problems(unknown.html)).toEqual(['«Myndighed»: ingen myndighed har kommunekoden eller CVR-nummeret «0999»; vælg en fra listen.']);
    // The filter that holds still holds.
    expect(rowsOf(unknown.html)).toHaveLength(2);
    const both = await page(asOperator, 'authority=x&system=nobody');
    expect(problems(both.html)).toHaveLength(2);
  });

  it('names a filter given twice in the address as a bad value, a 400 page, not a failure', async () => {
    const asOperator = await portal.login(operator);
    for (const [query, label] of [['system=filter-a-one&system=filter-a-two', 'It-system'], ['authority=0751&authority=0101', 'Myndighed']]) {
      const { status, html } = await page(asOperator, query!);
      expect([query, status]).toEqual([query, 400]);
      expect([query, problems(html)]).toEqual([query, [expect.stringContaining(label!)]]);
      // Neither value is applied: the list is unfiltered.
      expect(rowsOf(html)).toHaveLength(100);
    }
  });

  it('keeps the filters in the next and first pages’ links', async () => {
    const asOperator = await portal.login(operator);
    const first = await page(asOperator, 'status=requested&system=filter-a-one');
    expect(rowsOf(first.html)).toHaveLength(100);
    const next = link(first.html, 'next');
    expect(Object.fromEntries(new URLSearchParams(next))).toEqual({ status: 'requested', system: 'filter-a-one', after: expect.stringMatching(/^[0-9]+$/) });
    const second = await page(asOperator, next!);
    expect(second.status).toBe(200);
    const rows = rowsOf(second.html);
    expect(rows).toHaveLength(96);
    expect(rows.every((r) => r.startsWith('filter-a-one|') && r.endsWith('|Afventer'))).toBe(true);
    expect(link(second.html, 'next')).toBeUndefined();
    expect(link(second.html, 'first')).toBe('status=requested&system=filter-a-one');
    // By authority: Aarhus has 103 pending agreements, the next page the last 3 of them.
    const aarhusFirst = await page(asOperator, 'status=requested&authority=751');
    expect(rowsOf(aarhusFirst.html)).toHaveLength(100);
    const aarhusNext = link(aarhusFirst.html, 'next');
    expect(Object.fromEntries(new URLSearchParams(aarhusNext))).toEqual({ status: 'requested', authority: '0751', after: expect.stringMatching(/^[0-9]+$/) });
    const aarhusRest = rowsOf((await page(asOperator, aarhusNext!)).html);
    expect(aarhusRest).toHaveLength(3);
    expect(aarhusRest.every((r) => r.includes('|0751 Aarhus|Afventer'))).toBe(true);
  });
});
