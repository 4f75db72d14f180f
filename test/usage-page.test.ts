/**
 * The Forbrug page at volume: its breakdown table shows the first rows and says the CSV has them
 * all, while its totals per period still count every row — summed in the database when no per-use
 * price holds, from every row's own rounded amount when one does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setPrice } from '../src/prices/prices.js';
import { registerSystem } from './helpers/factories.js';
import { addPerson, startPortal, type PortalClient, type TestPerson, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
let operator: TestPerson;
let aarhus: TestPerson;
const MONTHS = ['2026-01', '2026-02', '2026-03'];

/** The portal's clock: 10 August 2025, so that a year back by default reaches June and July 2025. */
const NOW = new Date('2025-08-10T10:00:00Z');

beforeAll(async () => {
  portal = await startPortal({ clock: () => NOW });
  const pool = portal.pool;
  const sender = await registerSystem(pool, { username: 'page-afsender', vendor: 'Side A/S', dataDir: portal.config.dataDir });
  const recipient = await registerSystem(pool, { username: 'page-modtager', vendor: 'Side B/S', dataDir: portal.config.dataDir });
  // Every municipality's data, sent once a month from one system to another: 98 × 2 rows (send, fetch) a month.
  for (const [i, month] of MONTHS.entries()) {
    for (const table of ['usage_daily', 'usage_monthly']) {
      await pool.query(
        `INSERT INTO ${table} SELECT $1::date, a.id, 1, $2, $3, 1, a.id % 7 + $4, 1000, (a.id % 7 + $4) * 123457 FROM authorities a WHERE a.kommunekode IS NOT NULL`,
        [table === 'usage_daily' ? `${month}-15` : `${month}-01`, sender.id, recipient.id, i + 1],
      );
    }
  }
  // June and July 2025: every authority, a CVR-only one among them, sent to and from systems of
  // vendors whose names sort one way by code point and the other way by dictionary ('Side A/S' <
  // 'aa-leverandør' only by code point), one system both sending and fetching: 4 rows an authority
  // a month, read by the page in two steps.
  const other = await registerSystem(pool, { username: 'page-zeta', vendor: 'aa-leverandør', dataDir: portal.config.dataDir });
  await pool.query(`INSERT INTO authorities (cvr, name, folder) VALUES ('11223344', 'Region Midtjylland', '11223344')`);
  // June's use is on two days, either side of the price change the pricing test sets on 20 June.
  for (const [month, days] of [['2025-06-01', ['2025-06-10', '2025-06-25']], ['2025-07-01', ['2025-07-02']]] as const) {
    for (const [table, dates, times] of [['usage_daily', days, 1], ['usage_monthly', [month], days.length]] as const) {
      for (const date of dates) {
        for (const [from, to] of [[sender.id, recipient.id], [other.id, recipient.id], [sender.id, other.id]]) {
          await pool.query(
            `INSERT INTO ${table} SELECT $1::date, a.id, 1, $2, $3, $4::int, $4::int * (a.id % 5 + 1), $4::int * 1000, $4::int * a.id * 1000 FROM authorities a`,
            [date, from, to, times],
          );
        }
      }
    }
  }
  operator = await addPerson(pool, { role: 'operator' });
  const aarhusId = (await pool.query<{ id: number }>(`SELECT id FROM authorities WHERE kommunekode = '0751'`)).rows[0]!.id;
  aarhus = await addPerson(pool, { role: 'authority-admin', authorityId: aarhusId });
}, 60_000);

afterAll(async () => {
  await portal?.close();
});

/** The breakdown table's rows and the periods table's cells, as text. */
function tables(html: string) {
  const breakdown = html.slice(html.indexOf('<div class="scroll"'));
  const rows = (breakdown.slice(0, breakdown.indexOf('</table>')).match(/<tr>/g) ?? []).length - 1; // less the header
  const periods = [...html.matchAll(/<tr><th scope="row">([^<]+)<\/th>((?:<td class="num">[^<]*<\/td>)+)<\/tr>/g)].map((m) => [
    m[1],
    ...[...m[2]!.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((c) => c[1]!.replace(/\u00a0/g, ' ')),
  ]);
  return { rows, periods };
}

/** A CSV download's lines, less its header. */
async function csvLines(client: PortalClient, path: string): Promise<string[]> {
  return (await (await client.get(path)).text()).trim().split('\n').slice(1);
}

/** The breakdown table's rows, each as its cells' text. */
function breakdownRows(html: string): string[][] {
  const breakdown = html.slice(html.indexOf('<div class="scroll"'));
  const body = breakdown.slice(breakdown.indexOf('<tbody>'), breakdown.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1]!.trim()));
}

describe('Forbrug at volume', () => {
  it('shows the first 500 rows of the breakdown, says the CSV has them all, and totals every row per period', async () => {
    const client = await portal.login(operator);
    const page = await client.get('/usage?from=2026-01-01&to=2026-03-31');
    expect(page.status).toBe(200);
    const html = await page.text();
    const csv = await csvLines(client, '/usage.csv?from=2026-01-01&to=2026-03-31');
    expect(csv).toHaveLength(3 * 98 * 2);
    const { rows, periods } = tables(html);
    expect(rows).toBe(500);
    expect(html).toContain('Tabellen viser de første 500 rækker; CSV-filen har dem alle.');
    const number = new Intl.NumberFormat('da-DK', { maximumFractionDigits: 0 });
    for (const month of MONTHS) {
      const files = csv.filter((l) => l.startsWith(`${month},`)).reduce((sum, l) => sum + Number(l.split(',')[6]), 0);
      expect(periods.find((p) => p[0] === month)?.[1]).toBe(number.format(files));
    }
    // By quarter the three months' totals are one period, summed in the database as the months are.
    const quarter = tables(await (await client.get('/usage?from=2026-01-01&to=2026-03-31&by=quarter')).text()).periods;
    const all = csv.reduce((sum, l) => sum + Number(l.split(',')[6]), 0);
    expect(quarter.map((p) => p.slice(0, 2))).toEqual([['2026Q1', number.format(all)]]);
  });

  it('shows the CSV’s first rows in the CSV’s order, by month and by quarter, across periods', async () => {
    const client = await portal.login(operator);
    for (const by of ['month', 'quarter']) {
      const query = `from=2025-06-01&to=2025-07-31&by=${by}`;
      const html = await (await client.get(`/usage?${query}`)).text();
      const csv = await csvLines(client, `/usage.csv?${query}`);
      expect(csv).toHaveLength(2 * 99 * 4);
      // The page's row: period, authority and its name, vendor, system, service; the CSV's the same fields.
      const shown = breakdownRows(html).map((cells) => [cells[0], cells[1], cells[2], cells[3]].join('|'));
      const first = csv.slice(0, 500).map((line) => {
        const [period, authority, name, vendor, system] = line.split(',');
        return [period, `${authority} ${name}`, vendor, system].join('|');
      });
      expect(shown).toEqual(first);
      // Municipalities first, the CVR-only region after them; in a period, vendors by code point.
      expect(shown[0]).toBe(by === 'month' ? '2025-06|0101 København|Side A/S|page-afsender' : '2025Q2|0101 København|Side A/S|page-afsender');
      expect(shown[1]).toMatch(/\|0101 København\|Side B\/S\|page-modtager$/);
      expect(shown[2]).toMatch(/\|0101 København\|aa-leverandør\|page-zeta$/);
      expect(shown[3]).toMatch(/\|0101 København\|aa-leverandør\|page-zeta$/);
      expect(shown[4 * 98]).toMatch(/^2025(-06|Q2)\|11223344 Region Midtjylland\|Side A\/S/);
      expect(shown[4 * 99]).toMatch(/^2025(-07|Q3)\|0101 København\|Side A\/S/);
    }
    // An authority sees its own rows, each inside the buffet (no per-use price those days).
    const own = breakdownRows(await (await (await portal.login(aarhus)).get('/usage?from=2025-06-01&to=2025-07-31')).text());
    expect(own.map((cells) => cells.join('|'))).toEqual(
      ['2025-06', '2025-07'].flatMap((period) => [
        expect.stringMatching(new RegExp(`^${period}\\|Side A/S\\|page-afsender\\|Afsendelse \\(send\\)\\|.*\\|I buffetprisen$`)),
        expect.stringMatching(new RegExp(`^${period}\\|Side B/S\\|page-modtager\\|Afhentning \\(fetch\\)\\|.*\\|I buffetprisen$`)),
        expect.stringMatching(new RegExp(`^${period}\\|aa-leverandør\\|page-zeta\\|Afhentning \\(fetch\\)\\|.*\\|I buffetprisen$`)),
        expect.stringMatching(new RegExp(`^${period}\\|aa-leverandør\\|page-zeta\\|Afsendelse \\(send\\)\\|.*\\|I buffetprisen$`)),
      ]),
    );
  });

  it('shows a year back from the portal’s clock by default, and its quarter’s invoice basis', async () => {
    const client = await portal.login(operator);
    const html = await (await client.get('/usage')).text();
    expect(html).toContain('name="from" value="2024-08-01"');
    expect(html).toContain('<option value="2025Q3" selected>');
    expect(breakdownRows(html).map((cells) => cells[0])).toEqual(expect.arrayContaining(['2025-06', '2025-07']));
  });

  it('totals each row’s own rounded amount per period when a per-use price holds', async () => {
    // 0.01 DKK per file and 0.07 DKK per GiB: every row's bytes are a fraction of an øre, rounded on its own.
    await setPrice(portal.pool, { model: 'per-use', service: 'fetch', perFile: '0.01', perGib: '0.07', from: '2026-02-01' }, 'test');
    const client = await portal.login(operator);
    const html = await (await client.get('/usage?from=2026-01-01&to=2026-03-31&by=quarter')).text();
    const csv = await csvLines(client, '/usage.csv?from=2026-01-01&to=2026-03-31&by=quarter');
    const ore = csv.reduce((sum, l) => sum + Number(l.split(',')[8] || 0), 0);
    expect(ore).toBeGreaterThan(0);
    const kroner = new Intl.NumberFormat('da-DK', { style: 'currency', currency: 'DKK', minimumFractionDigits: 2 });
    const { rows, periods } = tables(html);
    expect(periods).toHaveLength(1);
    expect(periods[0]![3]).toBe(kroner.format(ore / 100).replace(/\u00a0/g, ' '));
    // A quarter gathers the months' rows: 98 authorities × send and fetch, all shown.
    expect(rows).toBe(98 * 2);
    expect(html).not.toContain('Tabellen viser de første');
  });

  it('prices the rows it shows and its periods as the CSV does, with a price change inside a month', async () => {
    // From 20 June 2025 sending costs 0.07 DKK a file and 1,234.57 DKK a GiB (fractions of an øre in every row): June's rows are two segments, each rounded on its own.
    await setPrice(portal.pool, { model: 'per-use', service: 'send', perFile: '0.07', perGib: '1234.57', from: '2025-06-20' }, 'test');
    const client = await portal.login(operator);
    const kroner = new Intl.NumberFormat('da-DK', { style: 'currency', currency: 'DKK', minimumFractionDigits: 2 });
    const dkk = (ore: number) => kroner.format(ore / 100).replace(/\u00a0/g, ' ');
    // June and July by month and by quarter (June cut in two), and July alone (one price all month).
    for (const query of ['from=2025-06-01&to=2025-07-31&by=month', 'from=2025-06-01&to=2025-07-31&by=quarter', 'from=2025-07-01&to=2025-07-31&by=month']) {
      const html = await (await client.get(`/usage?${query}`)).text();
      const csv = (await csvLines(client, `/usage.csv?${query}`)).map((line) => line.split(','));
      const shown = breakdownRows(html).map((cells) => [cells[0], cells[2], cells[3], cells[7]!.replace(/\u00a0/g, ' ')]);
      const first = csv.slice(0, 500).map((c) => [c[0], c[3], c[4], c[8] === '' ? 'I buffetprisen' : dkk(Number(c[8]))]);
      expect(shown).toEqual(first);
      expect(shown.some((cells) => cells[3] !== 'I buffetprisen')).toBe(true);
      const periods = tables(html).periods;
      for (const period of new Set(csv.map((c) => c[0]!))) {
        const ore = csv.filter((c) => c[0] === period).reduce((sum, c) => sum + Number(c[8] || 0), 0);
        expect(periods.find((p) => p[0] === period)?.[3]).toBe(dkk(ore));
      }
    }
  });

  it('shows operators the invoice basis of the authority they choose, not every authority’s (that is the CSV)', async () => {
    const client = await portal.login(operator);
    const none = await (await client.get('/usage?from=2025-06-01&to=2025-07-31&quarter=2025Q3')).text();
    expect(none).toContain('<select id="u-authority" name="authority">');
    expect(none).toContain('Vælg en myndighed for at se dens fakturagrundlag her.');
    expect(none).not.toContain('<caption>0751 Aarhus');
    expect(none).toContain('href="/usage/invoice.csv?quarter=2025Q3"');
    const all = await csvLines(client, '/usage/invoice.csv?quarter=2025Q3');
    expect(new Set(all.map((line) => line.split(',')[1])).size).toBeGreaterThan(90);

    const chosen = await (await client.get('/usage?from=2025-06-01&to=2025-07-31&quarter=2025Q3&authority=0751')).text();
    expect(chosen).toContain('<option value="0751" selected>0751 Aarhus</option>');
    expect(chosen).toContain('<caption>0751 Aarhus — 2025Q3</caption>');
    expect(chosen).not.toContain('<caption>0101 København');
    expect(chosen).toContain('href="/usage/invoice.csv?quarter=2025Q3&amp;authority=0751"');
    const own = await csvLines(client, '/usage/invoice.csv?quarter=2025Q3&authority=0751');
    expect(own.length).toBeGreaterThan(1);
    expect(own.every((line) => line.split(',')[1] === '0751')).toBe(true);

    // A quarter with nothing to invoice says so, for the operator's choice as for the authority itself.
    const nothing = await (await client.get('/usage?from=2025-06-01&quarter=2024Q1&authority=0751')).text();
    expect(nothing).toContain('Intet at fakturere i kvartalet.');
    expect(nothing).not.toContain('<caption>0751 Aarhus');
    const ownNothing = await (await (await portal.login(aarhus)).get('/usage?from=2025-06-01&quarter=2024Q1')).text();
    expect(ownNothing).toContain('Intet at fakturere i kvartalet.');
    expect(ownNothing).not.toContain('I alt');

    const unknown = await client.get('/usage?from=2025-06-01&quarter=2025Q3&authority=0999');
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('«Myndighed»: «0999» er ikke en kendt myndighed; vælg en fra listen.');
    expect((await client.get('/usage/invoice.csv?quarter=2025Q3&authority=0999')).status).toBe(400);
  });

  it('names a bad value in the query with what was typed, instead of quietly showing another period', async () => {
    const client = await portal.login(operator);
    const bad = await client.get('/usage?from=2026-02-30&to=2026-03-31');
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('«Fra og med»: «2026-02-30» er ikke en dato');
    expect(html).toContain('name="from" value="2026-02-30"');
    expect(html).toContain('name="to" value="2026-03-31"');

    const order = await (await client.get('/usage?from=2026-03-01&to=2026-01-31')).text();
    expect(order).toContain('«Til og med» (2026-01-31) ligger før «Fra og med» (2026-03-01)');

    // A CSV asked for with a bad value is the page naming it, not a file of other figures.
    const csv = await client.get('/usage.csv?from=2026-01-01&by=week');
    expect(csv.status).toBe(400);
    expect(csv.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await csv.text()).toContain('«week»');
    const invoice = await client.get('/usage/invoice.csv?quarter=2026Q5');
    expect(invoice.status).toBe(400);
    expect(await invoice.text()).toContain('«2026Q5»');
  });

  it('writes a name a spreadsheet would take for a formula as text, in the usage CSV and the invoice basis', async () => {
    const pool = portal.pool;
    const formula = await registerSystem(pool, { username: 'formel-system', vendor: '=1+2 ApS', dataDir: portal.config.dataDir });
    const recipient = (await pool.query<{ id: number }>(`SELECT id FROM systems WHERE username = 'page-modtager'`)).rows[0]!.id;
    for (const [table, day] of [['usage_daily', '2024-01-15'], ['usage_monthly', '2024-01-01']]) {
      await pool.query(`INSERT INTO ${table} SELECT $1::date, id, 1, $2, $3, 1, 1, 1000, 1000 FROM authorities WHERE kommunekode = '0751'`, [day, formula.id, recipient]);
    }
    await setPrice(pool, { model: 'per-use', service: 'send', perFile: '1', perGib: '1', from: '2024-01-01' }, 'test');
    const client = await portal.login(operator);
    const usage = await (await client.get('/usage.csv?from=2024-01-01&to=2024-01-31')).text();
    expect(usage).toContain("2024-01,0751,Aarhus,'=1+2 ApS,formel-system,send,1,1000,100");
    const invoice = await (await client.get('/usage/invoice.csv?quarter=2024Q1&authority=0751')).text();
    expect(invoice).toContain(",per-use,'=1+2 ApS,formel-system,send,");
    expect(invoice).not.toContain(',=1+2');
  });
});
