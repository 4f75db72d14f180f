#!/usr/bin/env node
// Checks src/ against the rules of .dependency-cruiser.cjs (no cycles; the SFTP edge does not import
// the router; domain modules import no edge) and says what breaks them. Exit 0 when all hold, 1 when
// not. Run by test/dependency-rules.test.ts; by hand: `node scripts/check-dependencies.mjs`.
//
// It calls dependency-cruiser's API rather than its CLI, which refuses Node 20. The temporary
// exceptions in the config are applied here, after one cruise without them, so that an exception
// whose cause is gone is reported too (remove it from the config).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');
const exceptions = { 'no-circular': config.knownExceptions.cycles, 'triggers-not-router': config.knownExceptions.triggersToRouter };

const strip = ({ pathNot, ...from }) => from; // the rules without their exceptions
const ruleSet = { forbidden: config.forbidden.map((rule) => ({ ...rule, from: strip(rule.from) })) };
const tsConfig = extractTSConfig(config.options.tsConfig.fileName);
const result = await cruise(['src'], { ...config.options, ruleSet, validate: true }, config.options.enhancedResolveOptions, { tsConfig });

/** The modules a violation is about: both ends, and for a cycle every module on it. */
const members = (v) => [v.from, v.to, ...(v.cycle ?? []).map((c) => c.name ?? c)];
const matches = (re, path) => new RegExp(re).test(path);
const listed = (v) => exceptions[v.rule.name] ?? [];
// A known cycle is excused only when every module on it is listed; a known import, by its importer.
const excused = (v) => (v.cycle ? members(v).every((m) => listed(v).some((re) => matches(re, m))) : listed(v).some((re) => matches(re, v.from)));
const violations = result.output.summary.violations;
const broken = violations.filter((v) => !excused(v));
const stale = Object.entries(exceptions).flatMap(([rule, list]) =>
  list.filter((re) => !violations.some((v) => v.rule.name === rule && excused(v) && members(v).some((m) => matches(re, m)))).map((re) => `${rule}: ${re}`),
);
const unresolved = result.output.modules.flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source} → ${d.module}`));

const lines = [];
for (const v of broken) {
  const rule = config.forbidden.find((r) => r.name === v.rule.name);
  const cycle = v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name ?? c)].join(' → ')})` : '';
  lines.push(`${v.rule.name}: ${v.from} imports ${v.to}${cycle}\n    ${rule?.comment ?? ''}`);
}
for (const s of stale) lines.push(`stale exception in .dependency-cruiser.cjs, nothing needs it any more; remove it: ${s}`);
for (const u of unresolved) lines.push(`cannot resolve ${u} (the rules cannot be checked for it)`);
if (result.output.summary.totalCruised < 20) lines.push(`only ${result.output.summary.totalCruised} modules found under src/: is the tsconfig right?`);

if (lines.length) {
  process.stderr.write(`The dependency rules of src/ do not hold (.dependency-cruiser.cjs):\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  process.exit(1);
}
