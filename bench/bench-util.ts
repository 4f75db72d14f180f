/** Small helpers the benchmarks share: running commands, making files, statistics. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** BENCH_SMOKE=1: tiny sizes, seconds — proves the bench still runs (CI), measures nothing. */
export const SMOKE = process.env.BENCH_SMOKE === '1';
/** BENCH_QUICK=1: small sizes, a minute or two — for trying a change. */
export const QUICK = !SMOKE && process.env.BENCH_QUICK === '1';

/** The wanted scenarios (BENCH_ONLY=upload,download), or all. */
export function wanted(name: string): boolean {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  return !only?.length || only.includes(name);
}

export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

export function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * MiB }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.on('error', () => undefined); // the command may exit without reading its input
    child.stdin!.end(input ?? '');
  });
}

export async function execOk(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await exec(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} failed (${r.code}): ${r.stderr.trim()}`);
  return r;
}

/** A file of `size` random bytes (each MiB starts with its number, so no two MiB are alike). */
export async function randomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = randomBytes(MiB);
  for (let written = 0; written < size; written += MiB) {
    chunk.writeUInt32BE(written / MiB, 0);
    if (!out.write(chunk.subarray(0, Math.min(MiB, size - written)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.end(() => resolve());
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (n: number) => Math.round(n);
export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * With BENCH_CPU_PROF: marks the span of one measurement (`name`) in <dir>/windows.jsonl, on the
 * monotonic clock V8's profiles use, so profile-top can show that span alone (without the start
 * of serve, host key generation, the other server's turn).
 */
export async function profileWindow<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return fn();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  try {
    return await fn();
  } finally {
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await appendFile(join(dir, 'windows.jsonl'), `${JSON.stringify({ name, fromUs, toUs })}\n`);
  }
}
