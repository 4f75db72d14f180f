// Jest `globalSetup`: one temporary folder for the whole run, made the TMPDIR of every test worker
// and of everything they start (ssh-keygen, sftp, chromium, PostgreSQL clusters …), so a run leaves
// nothing in /tmp even when a test dies before its own clean-up. tmp-global-teardown.mjs removes it.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'fu-jest-'));
  chmodSync(dir, 0o755); // the private PostgreSQL clusters run as the postgres user and must reach their folders
  process.env.FU_TEST_RUN_TMPDIR = dir;
  process.env.TMPDIR = dir;
}
