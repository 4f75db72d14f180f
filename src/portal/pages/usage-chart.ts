/**
 * The geometry of a bar chart drawn as SVG on the server (no chart library, no script): one bar
 * per month, a value axis with round ticks. The view turns it into <rect>s and <text>s.
 */
export interface BarChart {
  width: number;
  height: number;
  plot: { left: number; top: number; width: number; height: number };
  bars: Array<{ x: number; y: number; width: number; height: number; label: string; value: number }>;
  ticks: Array<{ y: number; value: number }>;
}

const WIDTH = 480;
const HEIGHT = 220;
const PLOT = { left: 64, top: 12, right: 8, bottom: 28 };

/** `binary`: bytes, whose ticks read well in KiB/MiB/GiB (a nice number times a power of 1024). */
export function barChart(points: Array<{ label: string; value: number }>, o: { binary?: boolean } = {}): BarChart {
  const plot = { left: PLOT.left, top: PLOT.top, width: WIDTH - PLOT.left - PLOT.right, height: HEIGHT - PLOT.top - PLOT.bottom };
  const highest = Math.max(0, ...points.map((p) => p.value));
  const unit = o.binary ? 1024 ** Math.max(0, Math.floor(Math.log(Math.max(highest, 1)) / Math.log(1024))) : 1;
  const top = niceCeiling(highest / unit) * unit;
  const slot = points.length ? plot.width / points.length : plot.width;
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  const bars = points.map((p, i) => {
    const h = top === 0 ? 0 : (p.value / top) * plot.height;
    return { x: round(plot.left + i * slot + (slot - barWidth) / 2), y: round(plot.top + plot.height - h), width: round(barWidth), height: round(h), label: p.label, value: p.value };
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ y: round(plot.top + plot.height - f * plot.height), value: top * f }));
  return { width: WIDTH, height: HEIGHT, plot, bars, ticks };
}

/** The smallest 1, 2 or 5 × 10^n at or above the value (so ticks at quarters read well), 4 for 0. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const round = (n: number) => Math.round(n * 10) / 10;
