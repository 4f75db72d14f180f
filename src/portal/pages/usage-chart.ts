/**
 * The geometry of a bar chart drawn as SVG on the server (no chart library, no script): one bar
 * per month or quarter, a value axis with round ticks. The view turns it into <rect>s and <text>s.
 * Under each bar its month's number (or Q1–Q4), and the year under the first bar and each new
 * year's: short enough for 13 bars side by side, and never to be read as a day ("26-11").
 */
export interface BarChart {
  width: number;
  height: number;
  plot: { left: number; top: number; width: number; height: number };
  /** `label` the whole period (2026-11, 2026Q4); `short` under the bar; `year` under that, where a year starts. */
  bars: Array<{ x: number; y: number; width: number; height: number; label: string; short: string; year?: string; value: number }>;
  ticks: Array<{ y: number; value: number }>;
}

const WIDTH = 480;
const HEIGHT = 234;
const PLOT = { left: 64, top: 12, right: 8, bottom: 42 };

/**
 * `binary`: bytes, whose ticks read well in KiB/MiB/GiB (a nice number times a power of 1024).
 * Otherwise a count (files), whose ticks are whole numbers.
 */
export function barChart(points: Array<{ label: string; value: number }>, o: { binary?: boolean } = {}): BarChart {
  const plot = { left: PLOT.left, top: PLOT.top, width: WIDTH - PLOT.left - PLOT.right, height: HEIGHT - PLOT.top - PLOT.bottom };
  const highest = Math.max(0, ...points.map((p) => p.value));
  const unit = o.binary ? 1024 ** Math.max(0, Math.floor(Math.log(Math.max(highest, 1)) / Math.log(1024))) : 1;
  const top = o.binary ? niceCeiling(highest / unit) * unit : 4 * wholeStep(highest / 4);
  const slot = points.length ? plot.width / points.length : plot.width;
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  const bars = points.map((p, i) => {
    const h = top === 0 ? 0 : (p.value / top) * plot.height;
    const bar = { x: round(plot.left + i * slot + (slot - barWidth) / 2), y: round(plot.top + plot.height - h), width: round(barWidth), height: round(h), label: p.label, value: p.value };
    return { ...bar, ...periodLabel(p.label, i === 0) };
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ y: round(plot.top + plot.height - f * plot.height), value: top * f }));
  return { width: WIDTH, height: HEIGHT, plot, bars, ticks };
}

/** A tick step for counts: the smallest 1, 2, 2.5 or 5 × 10^n at or above the value, rounded up to a whole number, at least 1. */
function wholeStep(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((v) => v >= value)!;
  return Math.ceil(step);
}

/** 2026-11 → 11, 2026Q4 → Q4; the year with the first bar and where a new year starts. */
function periodLabel(label: string, first: boolean): { short: string; year?: string } {
  const m = /^(\d{4})-(\d{2})$/.exec(label) ?? /^(\d{4})(Q[1-4])$/.exec(label);
  if (!m) return { short: label };
  const short = m[2]!.startsWith('Q') ? m[2]! : String(Number(m[2]));
  return { short, ...(first || short === '1' || short === 'Q1' ? { year: m[1]! } : {}) };
}

/** The smallest 1, 2 or 5 × 10^n at or above the value (so ticks at quarters read well), 4 for 0. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const round = (n: number) => Math.round(n * 10) / 10;
