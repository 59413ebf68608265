import { MemcompareError } from '../errors.js';
import { median } from '../results/aggregate.js';
import { runValue, type Scope } from '../results/metrics.js';

export type { Scope };

import type { ResultsDocument, RunRecord } from '../results/types.js';
import { welch } from './stats.js';

export const GATE_METRICS = ['pss', 'uss', 'rss'] as const;
/** Where a figure is gated: a run's workers, master or total, or (PSS only) a soak's peak total. */
export type GateScope = Scope | 'peak';
export const SCOPES: readonly GateScope[] = ['worker', 'master', 'total', 'peak'];
export type Metric = (typeof GATE_METRICS)[number];

export interface GateOptions {
  metrics: Metric[];
  scopes: GateScope[];
  /** A change must exceed this percentage of the baseline to count. */
  limitPercent: number;
  /** …and this many bytes. */
  floorBytes: number;
  /** …and be this unlikely under "no change" (one-sided Welch's t-test). */
  alpha: number;
}

export const DEFAULT_GATE: GateOptions = {
  metrics: ['pss'],
  // The peak is gated when both sides soaked (results without a soak have no peak row).
  scopes: ['worker', 'master', 'total', 'peak'],
  limitPercent: 5,
  floorBytes: 2 * 1048576,
  alpha: 0.05,
};

export type Verdict = 'regression' | 'improvement' | 'unchanged';

export interface GateRow {
  variant: string;
  metric: Metric;
  scope: GateScope;
  /** Median over the baseline's runs, bytes. */
  baselineBytes: number;
  currentBytes: number;
  changeBytes: number;
  changePercent: number;
  /** One-sided p-value in the direction of the change. */
  pValue: number;
  verdict: Verdict;
  /** Why, in words: which of floor, limit and significance held. */
  reason: string;
}

const field = { pss: 'pssBytes', uss: 'ussBytes', rss: 'rssBytes' } as const;

/** The per-run values of a metric in a scope (the metric table's definition: results/metrics.ts). */
export function runValues(runs: readonly RunRecord[], metric: Metric, scope: GateScope): number[] | undefined {
  if (scope !== 'peak') return runs.map((r) => runValue(r, scope, field[metric]));
  // A soak's peak is a total PSS: no USS or RSS peak is recorded.
  const peaks = runs.map((r) => r.soak?.peakTotalPssBytes);
  return metric === 'pss' && peaks.every((p) => p !== undefined) ? (peaks as number[]) : undefined;
}

/** Refuses to compare what is not comparable (exit 2). */
export function assertComparable(baseline: ResultsDocument, current: ResultsDocument): void {
  if (baseline.scenario.name !== current.scenario.name) {
    throw new MemcompareError(
      'BAD_RESULTS',
      `--baseline: scenario ${JSON.stringify(baseline.scenario.name)} is not the current scenario ${JSON.stringify(current.scenario.name)}; compare results of the same scenario`,
    );
  }
  const b = baseline.variants.map((v) => v.name).sort();
  const c = current.variants.map((v) => v.name).sort();
  if (b.join('\0') !== c.join('\0')) {
    throw new MemcompareError(
      'BAD_RESULTS',
      `--baseline: variants ${JSON.stringify(b)} do not match the current ${JSON.stringify(c)}; regenerate the baseline with the same variants`,
    );
  }
  for (const v of [...baseline.variants, ...current.variants]) {
    if (v.runs.length === 0) throw new MemcompareError('BAD_RESULTS', `variant ${JSON.stringify(v.name)} has no finished run; rerun it`);
  }
}

export function evaluateGate(baseline: ResultsDocument, current: ResultsDocument, o: GateOptions = DEFAULT_GATE): GateRow[] {
  assertComparable(baseline, current);
  const rows: GateRow[] = [];
  for (const cv of current.variants) {
    const bv = baseline.variants.find((v) => v.name === cv.name);
    if (!bv) continue;
    for (const metric of o.metrics) {
      for (const scope of o.scopes) {
        const b = runValues(bv.runs, metric, scope);
        const c = runValues(cv.runs, metric, scope);
        if (!b || !c) continue;
        const bm = median(b);
        const cm = median(c);
        const change = cm - bm;
        const pct = bm > 0 ? (change * 100) / bm : 0;
        const t = welch(b, c);
        const p = change >= 0 ? t.pIncrease : t.pDecrease;
        const big = Math.abs(change) > o.floorBytes;
        const beyond = Math.abs(pct) > o.limitPercent;
        const real = p < o.alpha;
        let verdict: Verdict = 'unchanged';
        let reason: string;
        if (big && beyond && real) {
          verdict = change > 0 ? 'regression' : 'improvement';
          reason = `above the ${(o.floorBytes / 1048576).toFixed(1)} MiB floor and the ${o.limitPercent}% limit, p=${p.toPrecision(2)}`;
        } else if (!big) {
          reason = `within the ${(o.floorBytes / 1048576).toFixed(1)} MiB floor`;
        } else if (!beyond) {
          reason = `within the ${o.limitPercent}% limit`;
        } else {
          reason = `not significant given the runs' spread (p=${p.toPrecision(2)} >= ${o.alpha})`;
        }
        rows.push({
          variant: cv.name,
          metric,
          scope,
          baselineBytes: bm,
          currentBytes: cm,
          changeBytes: change,
          changePercent: pct,
          pValue: p,
          verdict,
          reason,
        });
      }
    }
  }
  return rows;
}
