/**
 * The paging of the portal's lists (Advis, Udbakke, Overførsler, Serviceaftaler): one helper and one
 * partial. A list that fits on one page has no paging at all (an empty <nav> is a landmark with
 * nothing in it, announced all the same); a longer one links to the next page after the last row
 * shown, keeping the list's filter, and its last page back to the first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requestAgreements } from '../src/agreements/agreements.js';
import { registerSystem, type TestSystem } from './helpers/factories.js';
import { addPerson, startPortal, type PortalClient, type TestPerson, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
let operator: TestPerson;
let client: PortalClient;
let sender: TestSystem;

beforeAll(async () => {
  portal = await startPortal();
  operator = await addPerson(portal.pool, { role: 'operator' });
  client = await portal.login(operator);
  sender = await registerSystem(portal.pool, { username: 'mange-sider', vendor: 'Sideleverandør', dataDir: portal.config.dataDir });
}, 60_000);

afterAll(async () => {
  await portal?.close();
});

/** Each list, and each with its filter kept on the links. */
const LISTS = ['/notices', '/outbox', '/outbox?failed=yes', '/transfers', '/transfers?status=delivered', '/agreements', '/agreements?status=requested'];

/** The paging of a page as [href, 'first' | 'next'] of each link, or undefined when it has none. */
async function pagingOf(path: string): Promise<Array<[string, string]> | undefined> {
  const res = await client.get(path);
  const html = await res.text();
  expect([path, res.status]).toEqual([path, 200]);
  expect([path, 'an empty <nav>', /<nav[^>]*>\s*<\/nav>/.test(html)]).toEqual([path, 'an empty <nav>', false]);
  const nav = /<nav class="paging" aria-label="Sider">([\s\S]*?)<\/nav>/.exec(html);
  if (!nav) return undefined;
  return [...nav[1]!.matchAll(/<a href="([^"]*)"( rel="next")?>([^<]*)<\/a>/g)].map((m) => {
    expect(m[3]).toBe(m[2] ? 'Næste side' : 'Første side');
    return [m[1]!.replace(/&amp;/g, '&'), m[2] ? 'next' : 'first'];
  });
}

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  return (await portal.pool.query(sql, params)).rows[0].v as T;
}

describe('paging of the portal lists', () => {
  it('a list that fits on one page has no paging <nav>, not an empty one', async () => {
    for (const path of LISTS) expect([path, await pagingOf(path)]).toEqual([path, undefined]);
  });

  it('a longer list links to the page after its last row, keeping its filter; its last page links back to the first', async () => {
    for (let i = 1; i <= 51; i++) {
      await portal.pool.query(
        `INSERT INTO notices (event, event_key, user_id, email, language, subject, body, link, state, attempts, last_error)
         VALUES ('transfer.failed', $1, $2, $3, 'da', $4, 'tekst', '/transfers', 'failed', 5, '451 busy')`,
        [`paging:${i}`, operator.id, operator.email, `Fejl ${i}`],
      );
      await portal.pool.query(
        `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, status, received_at)
         VALUES ($1, $2, $3, $4, 10, 'delivered', '2026-11-20T10:00:00Z'::timestamptz + $5 * interval '1 second')`,
        [randomUUID(), sender.id, `f${i}.trigger`, `f${i}.csv`, i],
      );
    }
    for (const service of ['send', 'fetch'] as const) await requestAgreements(portal.pool, { system: sender.username, service, authorities: 'all-municipalities' }, 'admin@side.dk');
    expect(await one<number>("SELECT count(*)::int AS v FROM agreements WHERE status = 'requested'")).toBeGreaterThan(100);

    // The last row shown: notices and transfers newest first, 50 a page; agreements oldest first, 100 a page.
    const notice = await one<string>('SELECT id::text AS v FROM notices WHERE user_id = $1 ORDER BY id DESC OFFSET 49 LIMIT 1', [operator.id]);
    const outboxed = await one<string>('SELECT id::text AS v FROM notices ORDER BY id DESC OFFSET 49 LIMIT 1');
    const failed = await one<string>("SELECT id::text AS v FROM notices WHERE state IN ('failed', 'uncertain') ORDER BY id DESC OFFSET 49 LIMIT 1");
    const transfer = await one<string>(`SELECT (extract(epoch FROM received_at) * 1000000)::bigint || '_' || id AS v FROM transfers ORDER BY received_at DESC, id DESC OFFSET 49 LIMIT 1`);
    const agreement = await one<number>('SELECT id AS v FROM agreements ORDER BY id OFFSET 99 LIMIT 1');
    const requested = await one<number>("SELECT id AS v FROM agreements WHERE status = 'requested' ORDER BY id OFFSET 99 LIMIT 1");
    const expected: Array<[string, string, string]> = [
      // [list, its next page, the first page its last page links to]
      ['/notices', `/notices?after=${notice}`, '/notices'],
      ['/outbox', `/outbox?after=${outboxed}`, '/outbox'],
      ['/outbox?failed=yes', `/outbox?failed=yes&after=${failed}`, '/outbox?failed=yes'],
      ['/transfers', `/transfers?after=${transfer}`, '/transfers'],
      // The way back to the first page keeps the filter (it dropped it on Overførsler).
      ['/transfers?status=delivered', `/transfers?status=delivered&after=${transfer}`, '/transfers?status=delivered'],
      ['/agreements', `/agreements?after=${agreement}`, '/agreements'],
      ['/agreements?status=requested', `/agreements?status=requested&after=${requested}`, '/agreements?status=requested'],
    ];
    expect(expected.map((e) => e[0])).toEqual(LISTS);
    for (const [path, next, first] of expected) {
      expect([path, await pagingOf(path)]).toEqual([path, [[next, 'next']]]);
      // Two pages at most here: the next one is the last, with only the way back.
      expect([next, await pagingOf(next)]).toEqual([next, [[first, 'first']]]);
    }
  });
});
