#!/usr/bin/env node
// npm 11 records an optional platform package in package-lock.json only when the registry serves the
// exact version asked for; the registry mirror used here lacks some foreign-platform builds
// (e.g. @msgpackr-extract/*-darwin-*), and `npm ci` then refuses the lock as "Missing: … from lock
// file" (npm/cli#9846). This adds each missing optional package as a platform-restricted entry, so
// `npm ci` skips it on every other platform, as it would have had the registry listed it.
// Run after `npm install` whenever the lock is regenerated: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

const OSES = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPUS = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OSES.find((o) => parts.includes(o));
  const cpu = CPUS.find((c) => parts.includes(c));
  return os && cpu ? { os: [os], cpu: [cpu] } : undefined;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    if (packages[`${base}node_modules/${dep}`] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) {
      process.stderr.write(`left alone (not a platform package): ${dep}@${version}\n`);
      continue;
    }
    packages[`node_modules/${dep}`] = { version, optional: true, ...platform };
    added += 1;
  }
}
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`added ${added} platform-restricted optional entries\n`);
