/**
 * `npm run bench [name…]`: runs the benchmarks and writes each one's figures as JSON to
 * bench/results/<name>.json (and prints them). Each benchmark module exports `run(): Promise<object>`.
 * Benchmarks are measurements, not tests: they never fail on a figure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const benchmarks: Record<string, () => Promise<{ run: () => Promise<object> }>> = {
  routing: () => import('./routing-bench.js'),
  sftp: () => import('./sftp-bench.js'),
};

const wanted = process.argv.slice(2);
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
await mkdir(resultsDir, { recursive: true });
for (const [name, load] of Object.entries(benchmarks)) {
  if (wanted.length && !wanted.includes(name)) continue;
  process.stderr.write(`bench ${name}…\n`);
  const figures = { benchmark: name, at: new Date().toISOString(), ...(await (await load()).run()) };
  await writeFile(`${resultsDir}${name}.json`, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
