/**
 * `npm run bench [sftp] [routing]`: runs the benchmarks, prints issue 11's table (measure, before,
 * target, measured) and each benchmark's figures as JSON, and writes them to
 * bench/results/<name>.json (BENCH_RESULTS_DIR elsewhere). Benchmarks are measurements, not tests:
 * they never fail on a figure — only when they cannot run. Whatever a run made (databases, Redis
 * keys, processes, folders) is removed when it ends, fails or is interrupted (leftovers.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SMOKE } from './bench-util.js';
import { exitCode, sweepDeadRuns, undoAll, undoOnSignals } from './leftovers.js';
import { markdownTable, portalRows, routingRows, sftpRows, usageRows, type TargetRow } from './targets.js';

const benchmarks: Record<string, { load: () => Promise<{ run: () => Promise<object> }>; rows: (f: Record<string, unknown>) => TargetRow[] }> = {
  sftp: { load: () => import('./sftp-bench.js'), rows: sftpRows },
  routing: { load: () => import('./routing-bench.js'), rows: routingRows },
  usage: { load: () => import('./usage-bench.js'), rows: usageRows },
  portal: { load: () => import('./portal-bench.js'), rows: portalRows },
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in benchmarks));
if (unknown.length) {
  process.stderr.write(`No benchmark named ${unknown.join(', ')}: choose from ${Object.keys(benchmarks).join(', ')} (none: all).\n`);
  process.exit(2);
}
const resultsDir = process.env.BENCH_RESULTS_DIR ?? fileURLToPath(new URL('../../bench/results/', import.meta.url));
await mkdir(resultsDir, { recursive: true });
undoOnSignals();
await sweepDeadRuns();

const rows: TargetRow[] = [];
let failed = false;
for (const [name, bench] of Object.entries(benchmarks)) {
  if (names.length && !names.includes(name)) continue;
  process.stderr.write(`bench ${name}${SMOKE ? ' (smoke sizes)' : ''}…\n`);
  try {
    const figures = { benchmark: name, at: new Date().toISOString(), ...(await (await bench.load()).run()) };
    const table = bench.rows(figures);
    rows.push(...table);
    await writeFile(`${resultsDir}/${name}.json`, `${JSON.stringify({ ...figures, table }, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } catch (err) {
    failed = true;
    process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await undoAll();
  }
}
if (rows.length) process.stdout.write(`\n${markdownTable(rows)}\n`);
process.exit(exitCode(failed));
