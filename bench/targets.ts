/**
 * Issue 11's table: each measure with the figure before this round ("now"), the target, and what
 * this run measured — filled from a benchmark's figures. `met` is judged only on full-size runs
 * (quick and smoke sizes say nothing about a 1 GiB file).
 */
export interface TargetRow {
  measure: string;
  before: string;
  target: string;
  measured: string;
  met: boolean | null;
}

// The figures as the benchmarks return them (JSON); each row reads the fields it shows.
type Figures = Record<string, any>;

const x = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? `${n}×` : '–');

export function sftpRows(f: Figures): TargetRow[] {
  const full = f.sizes === 'full';
  const rows: TargetRow[] = [];
  const speed = (s: Figures) => `${x(s.speedVsOpenssh?.median)} (pairs ${(s.speedVsOpenssh?.pairs ?? []).join(', ')}); ${s.oursMBps} vs ${s.opensshMBps} MiB/s`;
  const cpu = (s: Figures) => `server CPU ${s.oursServerCpuSecondsPerGiB} vs ${s.opensshServerCpuSecondsPerGiB} s/GiB (${x(s.cpuRatio)})`;
  const judge = (ok: boolean) => (full ? ok : null);
  if (f.upload) {
    rows.push({
      measure: `${size(f.upload.bytes)} upload vs OpenSSH`,
      before: '0.78–0.82× (CPU 5.0 vs 2.5 s/GiB)',
      target: '≥ 1.1×, server CPU/GiB ≤ 1.2× OpenSSH’s',
      measured: `${speed(f.upload)}; ${cpu(f.upload)}`,
      met: judge(f.upload.speedVsOpenssh.median >= 1.1 && f.upload.cpuRatio <= 1.2),
    });
  }
  if (f.download) {
    rows.push({ measure: `${size(f.download.bytes)} download`, before: '0.73–0.85× (CPU 3.4–3.6 vs 1.7–2.0 s/GiB)', target: '≥ 1.1×', measured: `${speed(f.download)}; ${cpu(f.download)}`, met: judge(f.download.speedVsOpenssh.median >= 1.1) });
  }
  if (f.parallelUpload) {
    const p = f.parallelUpload;
    rows.push({ measure: `${p.files} × ${size(p.bytes / p.files)} parallel`, before: '0.83–1.01×', target: '≥ 1.2×', measured: `${speed(p)}; ${cpu(p)}`, met: judge(p.speedVsOpenssh.median >= 1.2) });
  }
  if (f.smallFiles) {
    const s = f.smallFiles;
    rows.push({
      measure: `${s.files} × 4 KiB, fsync ${f.fsync}`,
      before: '0.66–0.74× (1.4–1.7 vs 0.8–1.4 ms CPU/file)',
      target: '≥ 1.0×',
      measured: `${x(s.speedVsOpenssh.median)} (pairs ${s.speedVsOpenssh.pairs.join(', ')}); server CPU ${s.oursServerCpuMsPerFile} vs ${s.opensshServerCpuMsPerFile} ms/file`,
      met: judge(s.speedVsOpenssh.median >= 1.0),
    });
  }
  if (f.upload) {
    rows.push({ measure: `serve RSS during the ${size(f.upload.bytes)} upload`, before: '185–198 MB', target: '≤ 150 MB', measured: `${f.upload.oursMaxRssMB} MB`, met: judge(f.upload.oursMaxRssMB <= 150) });
  }
  if (f.connectAuthPwdQuit) {
    const c = f.connectAuthPwdQuit;
    rows.push({ measure: 'connect + auth + pwd + quit', before: '18–40 vs 214 ms', target: '(keep)', measured: `${c.oursMedianMs} vs ${c.opensshMedianMs} ms`, met: null });
  }
  return rows;
}

export function routingRows(f: Figures): TargetRow[] {
  const full = f.sizes === 'full';
  const judge = (ok: boolean) => (full ? ok : null);
  const pg = f.postgres as Figures | undefined;
  const redis = f.redis as Figures | undefined;
  const rows: TargetRow[] = [];
  const lat = (l: Figures | undefined) => (l ? `${l.p50} / ${l.p99} ms (mean ${l.mean}, ${l.within20msPct} % ≤ 20 ms, n ${l.files}; serve CPU ${l.serveCpuMsPerTransfer} ms/transfer)` : '–');
  const both = (key: string) => `${lat(pg?.[key])} · Redis ${lat(redis?.[key])}`;
  if (pg || redis) {
    const one = (pg ?? redis)!.latencyOneSenderMs;
    rows.push({ measure: 'routing latency, 1 sender, p50 / p99 (PostgreSQL · Redis queue)', before: '~21 / ≤ 100 ms', target: '< 15 / < 50 ms', measured: both('latencyOneSenderMs'), met: judge(one.p50 < 15 && one.p99 < 50) });
    const many = (pg ?? redis)!.latencyManySendersMs;
    rows.push({ measure: `routing latency, ${f.senders} senders, p50 / p99`, before: '73 / 172 ms', target: '< 30 / < 100 ms', measured: both('latencyManySendersMs'), met: judge(many.p50 < 30 && many.p99 < 100) });
    const rate = (b: Figures | undefined) => (b ? `${b.sustained.deliveredFilesPerSecond} (serve CPU ${b.sustained.serveCpuMsPerTransfer} ms/transfer)` : '–');
    const drain = (b: Figures | undefined) => (b?.routerOnlyDrain ? `${b.routerOnlyDrain.filesPerSecond} (ready after ${b.routerOnlyDrain.readyMs} ms)` : '–');
    rows.push({
      measure: 'delivered files/s sustained, Redis · PostgreSQL queue',
      before: '156 · 146',
      target: '≥ 300 · ≥ 200',
      measured: `${rate(redis)} · ${rate(pg)} (router alone, draining: ${drain(redis)} · ${drain(pg)})`,
      met: judge((redis?.sustained.deliveredFilesPerSecond ?? 0) >= 300 && (pg?.sustained.deliveredFilesPerSecond ?? 0) >= 200),
    });
  }
  return rows;
}

/** Issue 10 item 5 (bench/usage-bench.ts): usage and invoices over 1,000,000 deliveries in under a second. */
export function usageRows(f: Figures): TargetRow[] {
  const full = f.deliveries >= 1_000_000;
  const ms = (s: Figures) => `${s.p50Ms} / ${s.p95Ms} ms`;
  const row = (measure: string, s: Figures): TargetRow => ({ measure: `${measure}, p50 / p95`, before: '–', target: '< 1 s', measured: ms(s), met: full ? s.p95Ms < 1000 : null });
  return [
    row(`usage by system, a year of ${f.deliveries} deliveries`, f.usageBySystemYear),
    row('usage by service with prices, the year', f.usageByServiceWithPricesYear),
    row('usage invoice for a quarter, all authorities', f.invoiceQuarterAllAuthorities),
    row('CLI usage --json (whole process)', f.cliUsage),
    ...(f.cliUsageWithPrices ? [row('CLI usage --prices --json (whole process)', f.cliUsageWithPrices)] : []),
    row('CLI usage invoice --quarter --csv (whole process)', f.cliInvoice),
  ];
}

export function portalRows(f: Figures): TargetRow[] {
  const full = f.transfers >= 100_000;
  return ['operator', 'vendor-admin', 'authority-admin'].flatMap((role) =>
    (['transfersPage1', 'transfersPage21', 'usageByMonth', 'usageByVendor', 'usageByAuthorityQuarter', 'usagePage', 'usagePagePriced'] as const).map((m) => {
      const s = f[role][m];
      const what = m === 'usagePage' ? 'portal Forbrug page (a year)' : m === 'usagePagePriced' ? 'portal Forbrug page (a year, per-use prices)' : `portal API ${m}`;
      return { measure: `${what} as ${role}, ${f.transfers} transfers, p50 / p95`, before: '–', target: 'p95 < 100 ms', measured: `${s.p50Ms} / ${s.p95Ms} ms`, met: full ? s.p95Ms < 100 : null };
    }),
  );
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

/** The rows as a Markdown table (what docs/benchmarks.md holds). */
export function markdownTable(rows: TargetRow[]): string {
  const met = (m: boolean | null) => (m === null ? '' : m ? 'met' : 'not met');
  const lines = ['| measure | before | target | measured | |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.measure} | ${r.before} | ${r.target} | ${r.measured} | ${met(r.met)} |`);
  return lines.join('\n');
}
