import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.js';

/** The built binary, as an operator runs it (npm test builds first). */
export const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json calls). */
  json<T = any>(): T;
}

/** Runs `filudveksling <args>` with the given environment on top of a clean one. */
export function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'tester', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Starts `filudveksling serve` in the background; resolves when /readyz answers 200. */
export async function startServe(env: Record<string, string | undefined>, args: string[] = [], timeoutMs = 60_000, launcher: string[] = []) {
  // `launcher`: a command that runs node, e.g. ['prlimit', '--nofile=1200:1200', '--'].
  const [command, ...commandArgs] = [...launcher, process.execPath, BIN, 'serve', ...args] as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    // No portal unless a test asks for one (PORTAL_PORT): its default port would clash between test files.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'tester', PORTAL_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  // Kept for the test to read; shown as it comes only when TEST_LOG_LEVEL asks for logs.
  if (process.env.TEST_LOG_LEVEL) child.stderr!.pipe(process.stderr, { end: false });
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 0))));
  const port = env.HTTP_PORT;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited early (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not become ready within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }
  return {
    child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
