import { spread } from './aggregate.js';
import { studentTQuantile } from './student.js';
import type { ThroughputComparison, ThroughputRecord, ThroughputSummary, VariantResult } from './types.js';

/** The throughput records of a variant's runs whose phase ran its full time. */
export const fullThroughput = (v: VariantResult) =>
  v.runs.map((r) => r.throughput).filter((t): t is ThroughputRecord => t !== undefined && !t.cut);

/** A variant's requests per second and latency percentiles over its runs; undefined without a full phase. */
export function summarizeThroughput(v: VariantResult): ThroughputSummary | undefined {
  const ts = fullThroughput(v);
  if (ts.length === 0) return undefined;
  return {
    runs: ts.length,
    requestsPerSecond: spread(ts.map((t) => t.requestsPerSecond)),
    latencyMs: {
      p50: spread(ts.map((t) => t.latencyMs.p50)),
      p90: spread(ts.map((t) => t.latencyMs.p90)),
      p99: spread(ts.map((t) => t.latencyMs.p99)),
    },
  };
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/**
 * Each pair's throughput, run i against run i (interleaved, so drift on the host hits both alike): the
 * geometric mean of the paired requests-per-second ratios, and a 95% interval from Student's t on their
 * logarithms (a ratio's noise is proportional to its size). Pairs where either phase was cut are left out.
 */
export function compareThroughput(variants: readonly VariantResult[], pairs: readonly [string, string][]): ThroughputComparison[] {
  const byName = new Map(variants.map((v) => [v.name, v]));
  const out: ThroughputComparison[] = [];
  for (const [b, c] of pairs) {
    const base = byName.get(b);
    const head = byName.get(c);
    if (!base || !head) continue;
    const paired = base.runs.flatMap((r, i) => {
      const x = r.throughput;
      const y = head.runs[i]?.throughput;
      return x && y && !x.cut && !y.cut && x.requestsPerSecond > 0 && y.requestsPerSecond > 0 && x.latencyMs.p50 > 0 && x.latencyMs.p99 > 0
        ? [
            {
              rps: y.requestsPerSecond / x.requestsPerSecond,
              p50: y.latencyMs.p50 / x.latencyMs.p50,
              p99: y.latencyMs.p99 / x.latencyMs.p99,
            },
          ]
        : [];
    });
    if (paired.length === 0) continue;
    const logs = paired.map((p) => Math.log(p.rps));
    const n = logs.length;
    const m = logs.reduce((a, x) => a + x, 0) / n;
    const interval =
      n >= 2
        ? (() => {
            const sd = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1));
            const half = studentTQuantile(0.025, n - 1) * (sd / Math.sqrt(n));
            return { low: Math.exp(m - half), high: Math.exp(m + half) };
          })()
        : {};
    out.push({
      baseline: b,
      variant: c,
      pairs: n,
      ratio: Math.exp(m),
      ...interval,
      p50Ratio: geomean(paired.map((p) => p.p50)),
      p99Ratio: geomean(paired.map((p) => p.p99)),
    });
  }
  return out;
}
