// Jest `globalTeardown`: removes the run's temporary folder (tmp-global-setup.mjs).
import { rmSync } from 'node:fs';

export default function globalTeardown() {
  const dir = process.env.FU_TEST_RUN_TMPDIR;
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
