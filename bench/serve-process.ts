/**
 * A real `filudveksling serve` in a child process, as an operator runs it (built CLI, environment
 * settings, external PostgreSQL), stopped with SIGTERM by the bench's undo list. BENCH_CPU_PROF=<dir>
 * writes a V8 CPU profile of each serve there when it stops (`<label>.cpuprofile`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from './bench-util.js';
import { leaveBehind } from './leftovers.js';
import { processRss } from './process-stats.js';

const BIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface ServeProcess {
  pid: number;
  httpPort: number;
  sftpPort: number;
  /** RSS in MiB, sampled each second while it runs. */
  rssMiB: number[];
  stop(): Promise<void>;
}

export interface ServeOptions {
  role: 'all' | 'sftp' | 'router';
  /** Names the CPU profile. */
  label: string;
  env: Record<string, string | undefined>;
  /** Ports to reuse (a restart on the same data folder). */
  ports?: { http: number; sftp: number };
  /** Where to add the RSS samples (several serves of one run in one list). */
  rssMiB?: number[];
}

export async function startServe(opts: ServeOptions): Promise<ServeProcess> {
  const httpPort = opts.ports?.http ?? (await freePort());
  const sftpPort = opts.ports?.sftp ?? (await freePort());
  const dir = process.env.BENCH_CPU_PROF;
  const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${opts.label}-${Date.now()}.cpuprofile`] : [];
  // BENCH_SERVE_NODE_OPTIONS: node's options for serve alone (--perf-basic-prof for perf, --trace-gc
  // with BENCH_SERVE_STDOUT=1 to see serve's standard output, --max-semi-space-size…).
  const nodeOptions = process.env.BENCH_SERVE_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...nodeOptions, BIN, 'serve', '--role', opts.role], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      SFTP_HOST: '127.0.0.1',
      SFTP_PORT: String(sftpPort),
      // The portal is not measured here, and its fixed default port would clash between benches.
      PORTAL_PORT: 'off',
      ...opts.env,
    },
    stdio: ['ignore', process.env.BENCH_SERVE_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  const stop = () => stopChild(child);
  leaveBehind(`serve (pid ${child.pid})`, stop);
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) before it was ready`);
    if (await ready(httpPort)) break;
    // A restart over a backlog (the routing bench's 4,000 triggers) scans and queues it first.
    if (i > 6000) throw new Error('serve did not become ready within 10 minutes');
    await sleep(100);
  }
  const rssMiB = opts.rssMiB ?? [];
  const sampler = setInterval(() => void processRss(child.pid!).then((b) => b && rssMiB.push(Math.round(b / 1024 / 1024))), 1000);
  child.once('exit', () => clearInterval(sampler));
  return { pid: child.pid!, httpPort, sftpPort, rssMiB, stop };
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM (serve drains and exits, writing its CPU profile), SIGKILL after a minute. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}
