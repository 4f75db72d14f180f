/**
 * `node dist/bench/profile-top.js <file.cpuprofile> [N] [--window <name>]`: the N (default 12)
 * functions with the most self time in a V8 CPU profile (as `--cpu-prof` writes them, e.g. with
 * BENCH_CPU_PROF), each with its share of the busy (non-idle) time and where it lives — what
 * bench/profiles/NOTES.md keeps. `--window upload` counts only the samples taken while the bench
 * measured that scenario (the spans in windows.jsonl beside the profile).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Span {
  fromUs: number;
  toUs: number;
}

export function topSelfTime(profile: Profile, n: number, spans?: Span[]): { busyMs: number; idleMs: number; top: Array<{ name: string; where: string; ms: number; pct: number }> } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (spans && !spans.some((s) => at >= s.fromUs && at <= s.toUs)) return;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') return void (idle += us);
    busy += us;
    const key = `${frame.functionName || '(anonymous)'}\t${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => {
      const [name, where] = key.split('\t') as [string, string];
      return { name, where, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / busy) / 10 };
    });
  return { busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), top };
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url) ?? /\/dist\/(.*)$/.exec(url);
  if (m) return m[1]!;
  return url.replace(/^node:/, '');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, ''))) {
  const args = process.argv.slice(2);
  const w = args.indexOf('--window');
  const window = w >= 0 ? args.splice(w, 2)[1] : undefined;
  const [file, count] = args;
  if (!file) {
    process.stderr.write('Usage: node dist/bench/profile-top.js <file.cpuprofile> [N] [--window <name>]\n');
    process.exit(2);
  }
  let spans: Span[] | undefined;
  if (window) {
    const lines = (await readFile(join(dirname(file), 'windows.jsonl'), 'utf8')).split('\n').filter(Boolean);
    spans = lines.map((l) => JSON.parse(l) as Span & { name: string }).filter((s) => s.name === window);
    if (!spans.length) {
      process.stderr.write(`No span named ${window} in windows.jsonl beside ${file}.\n`);
      process.exit(2);
    }
  }
  const { busyMs, idleMs, top } = topSelfTime(JSON.parse(await readFile(file, 'utf8')) as Profile, Number(count) || 12, spans);
  process.stdout.write(`busy ${busyMs} ms (idle ${idleMs} ms)\n| self % of busy | self ms | function | where |\n|---|---|---|---|\n`);
  for (const t of top) process.stdout.write(`| ${t.pct} | ${t.ms} | ${t.name} | ${t.where} |\n`);
}
