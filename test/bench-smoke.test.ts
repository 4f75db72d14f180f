/**
 * The benchmarks at tiny sizes (BENCH_SMOKE=1), so they never rot: `npm run bench` still runs end to
 * end against OpenSSH and both queue backends, prints issue 11's table and its JSON, and leaves no
 * database, Redis key or process behind — also when it is interrupted. Measures nothing (benchmarks
 * are never timed tests). Needs root and openssh-server, like the SFTP benchmark itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_URL, REDIS_URL } from './helpers/database.js';
import { waitUntil } from './helpers/wait.js';

const RUNNER = fileURLToPath(new URL('../dist/bench/run.js', import.meta.url));

let resultsDir: string;
beforeAll(async () => {
  resultsDir = await mkdtemp(join(tmpdir(), 'fu-bench-smoke-'));
});
afterAll(async () => {
  await rm(resultsDir, { recursive: true, force: true });
});

interface Run {
  pid: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
  output(): { stdout: string; stderr: string };
  interrupt(): void;
}

function bench(names: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [RUNNER, ...names], {
    env: { ...process.env, BENCH_SMOKE: '1', BENCH_RESULTS_DIR: resultsDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    pid: child.pid!,
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    output: () => ({ stdout, stderr }),
    interrupt: () => child.kill('SIGINT'),
  };
}

/** What a bench process with this pid has in PostgreSQL and Redis (names carry the pid). */
async function leftoversOf(pid: number): Promise<{ databases: string[]; redisKeys: number }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`fu\\_bench\\_${pid}\\_%`]);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`fu-bench-${pid}-*`);
  redis.disconnect();
  return { databases: rows.map((r) => r.datname), redisKeys: keys.length };
}

test('npm run bench at smoke sizes prints the table and the figures of both benchmarks, and leaves nothing behind', async () => {
  const run = bench(['sftp', 'routing']);
  const { code } = await run.exited;
  const { stdout, stderr } = run.output();
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

  expect(stdout).toContain('| measure | before | target | measured |');
  for (const measure of ['upload vs OpenSSH', 'download', 'parallel', '× 4 KiB, fsync always', 'serve RSS during', 'routing latency, 1 sender', 'routing latency, 2 senders', 'delivered files/s sustained']) {
    expect(stdout).toContain(measure);
  }
  const sftp = JSON.parse(await readFile(join(resultsDir, 'sftp.json'), 'utf8'));
  expect(sftp.sizes).toBe('smoke');
  for (const scenario of ['upload', 'download', 'parallelUpload', 'smallFiles']) {
    expect(sftp[scenario].speedVsOpenssh.median).toBeGreaterThan(0);
    expect(sftp[scenario].oursServerCpuSecondsPerGiB).toBeGreaterThan(0);
  }
  expect(sftp.table.length).toBeGreaterThanOrEqual(5);
  const routing = JSON.parse(await readFile(join(resultsDir, 'routing.json'), 'utf8'));
  for (const backend of ['postgres', 'redis']) {
    expect(routing[backend].latencyOneSenderMs.files).toBe(5);
    expect(routing[backend].latencyManySendersMs.files).toBe(6);
    expect(routing[backend].routerOnlyDrain.delivered).toBe(20);
    expect(routing[backend].sustained.delivered).toBe(routing[backend].sustained.uploaded);
  }
  expect(routing.postgres.bigFile).toMatchObject({ hardLinked: true, deliveredSha256Matches: true });

  expect(await leftoversOf(run.pid)).toEqual({ databases: [], redisKeys: 0 });
}, 600_000);

test('an interrupted bench removes its database and Redis keys before it exits', async () => {
  const run = bench(['routing'], { BENCH_ONLY: 'redis' });
  await waitUntil('the bench to have its serve on Redis ready', () => run.output().stderr.includes('redis: serve ready'), 300_000, 100);
  const during = await leftoversOf(run.pid);
  expect(during.databases).toHaveLength(1);
  expect(during.redisKeys).toBeGreaterThan(0);

  run.interrupt();
  expect((await run.exited).code).toBe(130);
  expect(await leftoversOf(run.pid)).toEqual({ databases: [], redisKeys: 0 });
}, 600_000);
