import { median } from '../results/aggregate.js';
import { splitByRevision } from '../results/revisions.js';
import type { ResultsDocument, VariantResult } from '../results/types.js';
import { evaluateGate, type GateOptions, type GateScope, type Metric, pairedValues, rowThreshold, runValues } from './gate.js';
import { minimumDetectable } from './stats.js';

/** The run counts per side at which calibrate states the smallest change the gate would see. */
export const CALIBRATE_RUNS = [3, 5, 10] as const;

/** One A/A comparison: R runs of the same code on each side, judged by the gate as a change would be. */
export interface Comparison {
  /** 1-based; runs (k−1)·R+1 … k·R of each side. */
  index: number;
  regressions: number;
  inconclusive: number;
  rows: number;
}

/** One gate row's noise on this runner, over every pair measured. */
export interface NoiseRow {
  variant: string;
  metric: Metric;
  scope: GateScope;
  /** The median figure, bytes (what the percentage limit applies to). */
  medianBytes: number;
  /** Standard deviation of the paired differences (head run i − base run i), bytes. */
  noiseBytes: number;
  /** The noise as a percentage of the median. */
  noisePercent: number;
  /** Pairs the noise is estimated from. */
  pairs: number;
  thresholdBytes: number;
  /** The smallest shift the gate calls a regression 80% of the time, at 3, 5 and 10 runs per side. */
  detectable: { runs: number; bytes: number }[];
}

export interface Calibration {
  runsPerSide: number;
  /** The comparisons every run of which finished. */
  comparisons: Comparison[];
  /** Comparisons with a regression on unchanged code. */
  falseAlarms: number;
  /** Comparisons with no regression but an undecided row. */
  undecided: number;
  noise: NoiseRow[];
  options: GateOptions;
}

function within(v: VariantResult, from: number, to: number): VariantResult {
  return { ...v, runs: v.runs.filter((r) => r.index >= from && r.index <= to) };
}

/**
 * A `memcompare calibrate` document (every variant twice, the same code as base and head, interleaved)
 * cut into comparisons of `runsPerSide` runs, each judged by the gate; and each row's paired noise over
 * all the runs, with the change the gate would catch at 3, 5 and 10 runs.
 */
export function calibrate(doc: ResultsDocument, runsPerSide: number, options: GateOptions): Calibration {
  const split = splitByRevision(doc);
  if (!split) return { runsPerSide, comparisons: [], falseAlarms: 0, undecided: 0, noise: [], options };
  const { base, head } = split;
  const finished = (vs: readonly VariantResult[]) => Math.min(...vs.map((v) => Math.max(0, ...v.runs.map((r) => r.index))));
  const last = Math.min(finished(base.variants), finished(head.variants));
  const comparisons: Comparison[] = [];
  for (let k = 1; k * runsPerSide <= last; k++) {
    const from = (k - 1) * runsPerSide + 1;
    const to = k * runsPerSide;
    const rows = evaluateGate(
      { ...base, variants: base.variants.map((v) => within(v, from, to)) },
      { ...head, variants: head.variants.map((v) => within(v, from, to)) },
      options,
      true,
    );
    comparisons.push({
      index: k,
      regressions: rows.filter((r) => r.verdict === 'regression').length,
      inconclusive: rows.filter((r) => r.verdict === 'inconclusive').length,
      rows: rows.length,
    });
  }
  const noise: NoiseRow[] = [];
  for (const hv of head.variants) {
    const bv = base.variants.find((v) => v.name === hv.name);
    if (!bv) continue;
    for (const metric of options.metrics) {
      for (const scope of options.scopes) {
        const d = pairedValues(bv, hv, metric, scope);
        const values = runValues([...bv.runs, ...hv.runs], metric, scope);
        if (!d || !values || d.length < 2) continue;
        const m = median(values);
        const mean = d.reduce((a, x) => a + x, 0) / d.length;
        const sd = Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / (d.length - 1));
        const thresholdBytes = rowThreshold(bv.runs, scope, m, options);
        noise.push({
          variant: hv.name,
          metric,
          scope,
          medianBytes: m,
          noiseBytes: sd,
          noisePercent: m === 0 ? 0 : (sd * 100) / Math.abs(m),
          pairs: d.length,
          thresholdBytes,
          detectable: [],
        });
      }
    }
  }
  // The level the gate's strictest row is held to (Holm's first step), as in evaluateGate.
  const level = options.alpha / Math.max(1, noise.length);
  for (const n of noise) {
    n.detectable = CALIBRATE_RUNS.map((runs) => ({ runs, bytes: minimumDetectable(n.noiseBytes, runs, n.thresholdBytes, level) }));
  }
  return {
    runsPerSide,
    comparisons,
    falseAlarms: comparisons.filter((c) => c.regressions > 0).length,
    undecided: comparisons.filter((c) => c.regressions === 0 && c.inconclusive > 0).length,
    noise,
    options,
  };
}
