/**
 * `npm run bench portal`: the portal's API at real volumes (issue 9 item 10). Seeds a scratch
 * database with SQL (generate_series): the 98 preloaded municipalities, 50 vendors, 500 systems,
 * 100,000 transfers over a year along 2,000 routes (sender, InfRef, authority, recipient), three in
 * four delivered (a quarter of those to a second recipient too), the rest rejected;
 * then, through a real portal over HTTP with a bearer token per role (operator, vendor-admin,
 * authority-admin), times the transfer list's first page and its 21st (keyset paging: the Link
 * header's cursor), the usage by month (grouped by system, vendor and authority), and, with a
 * session cookie, the Forbrug page for the same year (chart, tables and, for those who see prices,
 * the quarter's invoice basis), then that page again once per-use prices hold. The database is
 * dropped at the end.
 */
import type { AddressInfo } from 'node:net';
import { createApiToken } from '../src/accounts/api-tokens.js';
import { inviteUser } from '../src/accounts/invite-user.js';
import type { Role } from '../src/accounts/roles.js';
import { createSession } from '../src/accounts/sessions.js';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { buildPortal } from '../src/portal/app.js';
import { setPrice } from '../src/prices/prices.js';
import { SESSION_COOKIE } from '../src/portal/authenticate.js';
import { percentile, progress, round1, SMOKE } from './bench-util.js';
import { benchDatabase } from './leftovers.js';

const TRANSFERS = Number(process.env.BENCH_PORTAL_TRANSFERS ?? (SMOKE ? 2_000 : 100_000));
const RUNS = Number(process.env.BENCH_PORTAL_RUNS ?? (SMOKE ? 3 : 40));
const PAGE = 50;

export async function run(): Promise<object> {
  const { url } = await benchDatabase(); // dropped by run.ts's undoAll
  const pool = createPool(url, 8);
  const config = loadConfig({ DATABASE_URL: url, FILUDVEKSLING_DATA: '/nonexistent-bench', PORTAL_PORT: '0', LOG_LEVEL: 'silent' });
  await migrate(pool);
  const app = await buildPortal({ pool, config, rateLimits: { perMinute: 1_000_000, authPerMinute: 1_000_000 } });
  try {
    progress(`seeding ${TRANSFERS} transfers`);
    const seedStart = performance.now();
    const owners = await seed(pool);
    const seedSeconds = round1((performance.now() - seedStart) / 1000);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const base = `${origin}/api/v1`;
    const tokens: Record<string, string> = {};
    const sessions: Record<string, string> = {};
    for (const [role, org] of [['operator', {}], ['vendor-admin', { vendorId: owners.vendorId }], ['authority-admin', { authorityId: owners.authorityId }]] as const) {
      const email = `${role}@bench.example`;
      await inviteUser(pool, { email, role: role as Role, ...org }, 'bench', { publicUrl: 'http://bench.example', clock: () => new Date() });
      tokens[role] = (await createApiToken(pool, email, 'bench')).token;
      const userId = (await pool.query<{ id: number }>('SELECT id FROM users WHERE email = $1', [email])).rows[0]!.id;
      sessions[role] = await createSession(pool, userId, '127.0.0.1', () => new Date());
    }
    progress('timing the API');
    const figures: Record<string, unknown> = { transfers: TRANSFERS, systems: 500, vendors: 50, authorities: 98, seedSeconds, runs: RUNS };
    for (const role of Object.keys(tokens)) {
      const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens[role]}` } });
      // The 21st page's address, by following the Link header from the first.
      let path = `/transfers?limit=${PAGE}`;
      for (let i = 0; i < 20; i++) {
        const res = await get(path);
        await res.arrayBuffer();
        const next = /<\/api\/v1([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
        if (!next) break;
        path = next;
      }
      figures[role] = {
        transfersPage1: await timed(() => get(`/transfers?limit=${PAGE}`)),
        transfersPage21: await timed(() => get(path)),
        usageByMonth: await timed(() => get('/usage?from=2026-01-01&to=2026-12-31&group=system')),
        usageByVendor: await timed(() => get('/usage?from=2026-01-01&to=2026-12-31&group=vendor')),
        usageByAuthorityQuarter: await timed(() => get('/usage?from=2026-01-01&to=2026-12-31&by=quarter&group=authority')),
        usagePage: await timed(() => fetch(`${origin}/usage?from=2026-01-01&to=2026-12-31`, { headers: { cookie: `${SESSION_COOKIE}=${sessions[role]}` } })),
      };
    }
    // The same page once per-use prices hold (the state of a real service): every row of the year
    // priced, one price changing mid-month; the authority's and operator's invoice basis for Q4.
    await setPrice(pool, { model: 'per-use', service: 'send', perFile: '0.25', perGib: '10', from: '2026-03-15' }, 'bench');
    await setPrice(pool, { model: 'per-use', service: 'fetch', perFile: '0.10', perGib: '1', from: '2026-07-01' }, 'bench');
    for (const role of Object.keys(sessions)) {
      const page = `${origin}/usage?from=2026-01-01&to=2026-12-31&quarter=2026Q4${role === 'operator' ? '&authority=0751' : ''}`;
      (figures[role] as Record<string, unknown>).usagePagePriced = await timed(() => fetch(page, { headers: { cookie: `${SESSION_COOKIE}=${sessions[role]}` } }));
    }
    return figures;
  } finally {
    await app.close();
    await pool.end();
  }
}

async function seed(pool: Pool): Promise<{ vendorId: number; authorityId: number }> {
  await pool.query(`INSERT INTO vendors (name) SELECT 'vendor-' || g FROM generate_series(1, 50) g`);
  await pool.query(`INSERT INTO systems (username, uuid, vendor_id)
                    SELECT 'system-' || g, md5('s' || g)::uuid, (SELECT min(id) FROM vendors) + g % 50 FROM generate_series(1, 500) g`);
  await pool.query(`INSERT INTO infrefs (number, version, owner_system_id) SELECT s.id, 1, s.id FROM systems s`);
  const step = (365 * 86_400) / TRANSFERS;
  await pool.query(
    `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, infref_id, authority_id, status, received_at)
     SELECT md5('t' || g)::uuid, s.id, 'f' || g || '.csv.trigger', 'f' || g || '.csv', 1000 + g % 50000, s.id, a.id,
            (ARRAY['delivered','delivered','delivered','rejected'])[1 + g % 4], timestamptz '2026-01-01 00:00+01' + g * $2::float8 * interval '1 second'
       FROM generate_series(1, $1::int) g
       JOIN systems s ON s.id = (SELECT min(id) FROM systems) + (g % 2000) % 500
       JOIN authorities a ON a.id = (SELECT min(id) FROM authorities WHERE kommunekode IS NOT NULL) + (g % 2000) % 98`,
    [TRANSFERS, step],
  );
  await pool.query(
    `INSERT INTO deliveries (transfer_id, recipient_system_id, status, placed_at, delivered_name, folder)
     SELECT t.id, (SELECT min(id) FROM systems) + ((g % 2000) * 7 + 3) % 500, 'delivered', t.received_at, t.file_name, '0751'
       FROM generate_series(1, $1::int) g JOIN transfers t ON t.id = md5('t' || g)::uuid WHERE t.status = 'delivered'
     UNION ALL
     SELECT t.id, (SELECT min(id) FROM systems) + ((g % 2000) * 11 + 5) % 500, 'delivered', t.received_at, t.file_name, '0751'
       FROM generate_series(4, $1::int, 4) g JOIN transfers t ON t.id = md5('t' || g)::uuid
      WHERE t.status = 'delivered' AND ((g % 2000) * 11 + 5) % 500 <> ((g % 2000) * 7 + 3) % 500`,
    [TRANSFERS],
  );
  await pool.query('ANALYZE');
  const { rows } = await pool.query<{ vendor: number; authority: number }>(
    `SELECT (SELECT min(id) FROM vendors) AS vendor, (SELECT id FROM authorities WHERE kommunekode = '0751') AS authority`,
  );
  return { vendorId: rows[0]!.vendor, authorityId: rows[0]!.authority };
}

async function timed(fn: () => Promise<Response>): Promise<{ p50Ms: number; p95Ms: number; status: number }> {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const res = await fn();
    await res.arrayBuffer();
    times.push(performance.now() - start);
    status = res.status;
  }
  const sorted = times.sort((a, b) => a - b);
  return { p50Ms: round1(percentile(sorted, 50)), p95Ms: round1(percentile(sorted, 95)), status };
}
