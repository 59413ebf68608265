import { COMPARED_METRICS } from '../results/metrics.js';
import type { Comparison, Spread, ThroughputComparison, VariantSummary } from '../results/types.js';
import { mib } from './units.js';

export function spreadText(s: Spread): string {
  return s.min === s.max ? mib(s.median) : `${mib(s.median)} (${(s.min / 1048576).toFixed(1)}–${(s.max / 1048576).toFixed(1)})`;
}

/**
 * The comparison table's content: each compared metric for each variant (median, min–max), then the
 * saving and ratio of every other variant against the first. The terminal and Markdown tables differ
 * only in their cells' borders.
 */
export function comparisonContent(
  summaries: readonly VariantSummary[],
  comparisons: readonly Comparison[],
  speed: readonly ThroughputComparison[] = [],
): { head: string[]; rows: string[][] } {
  const others = summaries.slice(1);
  const head = ['Metric', ...summaries.map((s) => s.name), ...others.flatMap((o) => [`Saving (${o.name})`, `Ratio (${o.name})`])];
  // A metric no variant has (a soak's peak, without a soak) is left out.
  const metrics = COMPARED_METRICS.filter(({ key }) => summaries.some((s) => s[key] !== undefined));
  const rows = metrics.map(({ key, label }) => {
    const row = [label, ...summaries.map((s) => (s[key] ? spreadText(s[key]) : ''))];
    for (const o of others) {
      const c = comparisons.find((x) => x.variant === o.name && x.metric === key);
      row.push(
        c ? `${mib(c.savingBytes)} (${c.savingPercent.toFixed(1)}%)` : '',
        c ? `${c.ratio.toFixed(2)}x (${c.ratioMin.toFixed(2)}–${c.ratioMax.toFixed(2)})` : '',
      );
    }
    return row;
  });
  return { head, rows: [...rows, ...throughputRows(summaries, speed)] };
}

const num = (x: number, digits: number) => x.toFixed(digits);
const spreadOf = (s: Spread, digits: number) =>
  s.min === s.max ? num(s.median, digits) : `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;

/** "1.52x (1.47–1.57)": a throughput ratio with its 95% interval when there is one. */
export function speedRatioText(c: ThroughputComparison): string {
  return c.low !== undefined && c.high !== undefined
    ? `${c.ratio.toFixed(2)}x (${c.low.toFixed(2)}–${c.high.toFixed(2)})`
    : `${c.ratio.toFixed(2)}x`;
}

/** The throughput rows under the memory rows: requests per second and p50/p99 latency, with the paired ratio. */
function throughputRows(summaries: readonly VariantSummary[], speed: readonly ThroughputComparison[]): string[][] {
  if (!summaries.some((s) => s.throughput)) return [];
  const others = summaries.slice(1);
  const rps = ['Requests/s', ...summaries.map((s) => (s.throughput ? spreadOf(s.throughput.requestsPerSecond, 0) : ''))];
  const p50 = ['Latency p50 (ms)', ...summaries.map((s) => (s.throughput ? spreadOf(s.throughput.latencyMs.p50, 1) : ''))];
  const p99 = ['Latency p99 (ms)', ...summaries.map((s) => (s.throughput ? spreadOf(s.throughput.latencyMs.p99, 1) : ''))];
  for (const o of others) {
    const c = speed.find((x) => x.variant === o.name);
    rps.push(c ? `${c.ratio >= 1 ? '+' : ''}${((c.ratio - 1) * 100).toFixed(1)}%` : '', c ? speedRatioText(c) : '');
    p50.push('', c ? `${c.p50Ratio.toFixed(2)}x` : '');
    p99.push('', c ? `${c.p99Ratio.toFixed(2)}x` : '');
  }
  return [rps, p50, p99];
}

const pct = (r: number) => `${r >= 1 ? '+' : '−'}${Math.abs((r - 1) * 100).toFixed(1)}%`;

/**
 * One line per compared variant, memory and speed together: "preload against nopreload: saves 156.0 MiB
 * total PSS (64.0%); throughput within noise (−0.4%, 95% interval −1.5% to +0.7%)". A change is named
 * only when its interval excludes none; with one pair there is no interval, and the line says so.
 */
export function verdictLines(summary: { comparisons: readonly Comparison[]; throughput?: readonly ThroughputComparison[] }): string[] {
  const memory = summary.comparisons.filter((c) => c.metric === 'totalPssBytes');
  return memory.map((m) => {
    const saving =
      m.savingBytes >= 0
        ? `saves ${mib(m.savingBytes)} total PSS (${m.savingPercent.toFixed(1)}%)`
        : `uses ${mib(-m.savingBytes)} more total PSS (${(-m.savingPercent).toFixed(1)}%)`;
    const c = summary.throughput?.find((x) => x.baseline === m.baseline && x.variant === m.variant);
    if (!c) return `${m.variant} against ${m.baseline}: ${saving}`;
    const change =
      c.ratio >= 1 ? `${((c.ratio - 1) * 100).toFixed(1)}% more requests/s` : `${((1 - c.ratio) * 100).toFixed(1)}% fewer requests/s`;
    const latency = `p99 latency ${c.p99Ratio.toFixed(2)}x`;
    let speed: string;
    if (c.low === undefined || c.high === undefined) speed = `${change}, ${latency} (one pair of runs: no interval; --runs 3 gives one)`;
    else if (c.low <= 1 && c.high >= 1)
      speed = `throughput within noise (${pct(c.ratio)}, 95% interval ${pct(c.low)} to ${pct(c.high)}), ${latency}`;
    else speed = `${change} (95% interval ${pct(c.low)} to ${pct(c.high)}), ${latency}`;
    return `${m.variant} against ${m.baseline}: ${saving}; ${speed}`;
  });
}
