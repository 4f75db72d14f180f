/**
 * `npm run bench usage`: usage and invoices over 1,000,000 deliveries (issue 10 item 5).
 *
 * Seeds a scratch database with SQL (generate_series): 20 vendors, 200 systems, 1,000 routes'
 * worth of (sender, InfRef, recipient, authority), 800,000 transfers in 2026 and 1,000,000
 * deliveries (every fourth transfer has a second recipient), prices with a change mid-Q4, an
 * approved agreement and inhabitants for every municipality. Then times, several runs each:
 * `usageReport` by system (the whole year), by service with prices (the whole year),
 * `invoiceForQuarter` 2026Q4 (all authorities), the same through the CLI (a process each: `usage`,
 * `usage --prices` and `usage invoice`), the
 * pre-rollup usage query for comparison, and what the rollup costs the router: one delivery
 * statement with and without the trigger. The database is dropped at the end.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { invoiceForQuarter } from '../src/prices/invoice.js';
import { usageReport } from '../src/usage/usage-report.js';
import { percentile, progress, round1, SMOKE } from './bench-util.js';
import { benchDatabase } from './leftovers.js';

const BIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DELIVERIES = Number(process.env.BENCH_USAGE_DELIVERIES ?? (SMOKE ? 5_000 : 1_000_000));
const RUNS = Number(process.env.BENCH_USAGE_RUNS ?? (SMOKE ? 2 : 9));

export async function run(): Promise<object> {
  // Dropped by run.ts's undoAll when the run ends, fails or is interrupted.
  const { url } = await benchDatabase();
  const pool = createPool(url, 4);
  try {
    await migrate(pool);
    progress(`seeding ${DELIVERIES} deliveries`);
    const seedMs = await timed(() => seed(pool));
    progress('timing usage and invoices');
    const rollupRows = Number((await pool.query('SELECT count(*) FROM usage_daily')).rows[0].count);
    const figures = {
      deliveries: DELIVERIES,
      seedSeconds: round1(seedMs / 1000),
      loadAverage: (await import('node:os')).loadavg().map(round1),
      rollupRows,
      runs: RUNS,
      usageBySystemYear: await stats(() => usageReport(pool, { by: 'system' })),
      usageByServiceWithPricesYear: await stats(() => usageReport(pool, { by: 'service', prices: true })),
      usageByServiceOneAuthorityQuarter: await stats(() => usageReport(pool, { by: 'service', prices: true, authority: '0751', from: '2026-10-01', to: '2026-12-31' })),
      invoiceQuarterAllAuthorities: await stats(() => invoiceForQuarter(pool, { quarter: '2026Q4' })),
      invoiceQuarterOneAuthority: await stats(() => invoiceForQuarter(pool, { quarter: '2026Q4', authority: '0751' })),
      cliUsage: await stats(() => cli(url, ['usage', '--json']), 3),
      cliUsageWithPrices: await stats(() => cli(url, ['usage', '--prices', '--json']), 3),
      cliInvoice: await stats(() => cli(url, ['usage', 'invoice', '--quarter', '2026Q4', '--csv']), 3),
      withoutRollupUsageBySystemYear: await stats(() => pool.query(PRE_ROLLUP_USAGE), 1),
      deliveryStatement: await triggerCost(pool),
    };
    return figures;
  } finally {
    await pool.end();
  }
}

async function seed(pool: Pool): Promise<void> {
  const transfers = Math.round(DELIVERIES * 0.8);
  const step = (365 * 86_400) / transfers;
  await pool.query(`INSERT INTO vendors (name) SELECT 'vendor-' || g FROM generate_series(1, 20) g`);
  await pool.query(`INSERT INTO systems (username, uuid, vendor_id)
                    SELECT 'system-' || g, md5('s' || g)::uuid, (SELECT min(id) FROM vendors) + g % 20 FROM generate_series(1, 200) g`);
  await pool.query(`INSERT INTO infrefs (number, version, owner_system_id) SELECT s.id, 1, s.id FROM systems s`);
  // Transfer g belongs to route g % 1000: its sender, InfRef and authority; deliveries to that route's recipient.
  await pool.query(
    `CREATE UNLOGGED TABLE bench_routes AS
       SELECT r, (SELECT min(id) FROM systems) + r % 200 AS sender, (SELECT min(id) FROM systems) + (r * 7 + 3) % 200 AS recipient,
              (SELECT min(id) FROM systems) + (r * 11 + 5) % 200 AS second, (SELECT min(id) FROM authorities WHERE kommunekode IS NOT NULL) + r % 98 AS authority
         FROM generate_series(0, 999) r`,
  );
  await pool.query(
    `INSERT INTO transfers (id, sender_system_id, trigger_name, file_name, size_bytes, infref_id, authority_id, status, received_at)
     SELECT md5('t' || g)::uuid, br.sender, 't', 'f', 1000 + (g::bigint * 7919) % 5000000, i.id, br.authority, 'delivered',
            timestamptz '2026-01-01 00:00+01' + g * $2::float8 * interval '1 second'
       FROM generate_series(1, $1::int) g JOIN bench_routes br ON br.r = g % 1000 JOIN infrefs i ON i.owner_system_id = br.sender`,
    [transfers, step],
  );
  // Placed in one statement: the rollup trigger runs once over them all.
  await pool.query(
    `INSERT INTO deliveries (transfer_id, recipient_system_id, status, placed_at)
     SELECT md5('t' || g)::uuid, br.recipient, 'delivered', timestamptz '2026-01-01 00:00+01' + (g * $2::float8 + 1) * interval '1 second'
       FROM generate_series(1, $1::int) g JOIN bench_routes br ON br.r = g % 1000
     UNION ALL
     SELECT md5('t' || g)::uuid, br.second, 'delivered', timestamptz '2026-01-01 00:00+01' + (g * $2::float8 + 1) * interval '1 second'
       FROM generate_series(4, $1::int, 4) g JOIN bench_routes br ON br.r = g % 1000 WHERE br.second <> br.recipient`,
    [transfers, step],
  );
  await pool.query(`UPDATE authorities SET inhabitants = 20000 + id * 997 WHERE kommunekode IS NOT NULL`);
  await pool.query(`INSERT INTO prices (model, service, valid_from, per_inhabitant_ore, per_file_ore, per_gib_ore, set_by) VALUES
                      ('buffet', '', '2026-01-01', 1200, NULL, NULL, 'bench'), ('buffet', '', '2026-11-16', 1350, NULL, NULL, 'bench'),
                      ('per-use', 'send', '2026-01-01', NULL, 25, 1000, 'bench'), ('per-use', 'send', '2026-11-16', NULL, 30, 800, 'bench'),
                      ('per-use', 'fetch', '2026-07-01', NULL, 10, 100, 'bench')`);
  await pool.query(`INSERT INTO agreements (system_id, service, authority_id, status, requested_by, decided_by, decided_at)
                    SELECT recipient, 'fetch', authority, 'approved', 'bench', 'bench', timestamptz '2026-01-01 00:00+01' + (r % 300) * interval '1 day'
                      FROM bench_routes WHERE r < 98`);
  await pool.query('ANALYZE');
}

/** The usage query before the rollup (migration 070): every transfer, with a count of its deliveries. */
const PRE_ROLLUP_USAGE = `WITH delivered AS (
    SELECT t.id, t.size_bytes, t.received_at, s.uuid::text AS key, s.username AS name,
           (SELECT count(*) FROM deliveries d WHERE d.transfer_id = t.id AND d.placed_at IS NOT NULL) AS deliveries
      FROM transfers t JOIN systems s ON s.id = t.sender_system_id)
  SELECT to_char(received_at AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM') AS period, key, name, count(*)::int AS transfers,
         sum(deliveries)::int AS deliveries, coalesce(sum(size_bytes), 0)::bigint, coalesce(sum(size_bytes * deliveries), 0)::bigint
    FROM delivered WHERE deliveries > 0 GROUP BY 1, 2, 3 ORDER BY 1, 2`;

/**
 * What the rollup adds to the router's delivery statement: 2,000 transfers placed one statement
 * each (as src/router/sql/record-delivered.ts does), with the trigger and with it disabled.
 */
async function triggerCost(pool: Pool): Promise<object> {
  const n = SMOKE ? 50 : 2_000;
  await pool.query(
    `INSERT INTO transfers (id, sender_system_id, trigger_name, size_bytes, infref_id, authority_id, status)
     SELECT md5('x' || g)::uuid, br.sender, 't', 4096, i.id, br.authority, 'delivering'
       FROM generate_series(1, $1::int) g JOIN bench_routes br ON br.r = g % 1000 JOIN infrefs i ON i.owner_system_id = br.sender`,
    [2 * n],
  );
  await pool.query(
    `INSERT INTO deliveries (transfer_id, recipient_system_id, status)
     SELECT md5('x' || g)::uuid, br.recipient, 'pending' FROM generate_series(1, $1::int) g JOIN bench_routes br ON br.r = g % 1000`,
    [2 * n],
  );
  const place = async (from: number) => {
    const times: number[] = [];
    for (let g = from; g < from + n; g++) {
      const start = performance.now();
      await pool.query(`UPDATE deliveries SET status = 'delivered', placed_at = now() WHERE transfer_id = md5('x' || $1::text)::uuid`, [g]);
      times.push(performance.now() - start);
    }
    return summary(times);
  };
  const withRollup = await place(1);
  await pool.query('ALTER TABLE deliveries DISABLE TRIGGER usage_daily_update');
  const withoutRollup = await place(n + 1);
  await pool.query('ALTER TABLE deliveries ENABLE TRIGGER usage_daily_update');
  return { statements: n, withRollup, withoutRollup };
}

async function stats(fn: () => Promise<unknown>, runs = RUNS): Promise<object> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(fn));
  return summary(times);
}

function summary(times: number[]): { p50Ms: number; p95Ms: number; maxMs: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50Ms: round1(percentile(sorted, 50)), p95Ms: round1(percentile(sorted, 95)), maxMs: round1(sorted[sorted.length - 1]!) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function cli(databaseUrl: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl }, maxBuffer: 256 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve()));
  });
}
