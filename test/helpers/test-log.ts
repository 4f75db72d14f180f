/**
 * Progress notes and figures of the long operations tests, for whoever is looking into them: written
 * to stderr only when TEST_LOG_LEVEL is set, so that `npm test` shows jest's report and failures only.
 * Figures worth keeping belong in the benchmarks (bench/, docs/benchmarks.md), not in test output.
 */
export function testLog(line: string): void {
  if (process.env.TEST_LOG_LEVEL) process.stderr.write(`${line}\n`);
}
