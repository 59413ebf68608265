import { MemcompareError } from '../errors.js';
import { signedSize, size } from '../render/units.js';
import { median } from '../results/aggregate.js';
import { runValue, type Scope } from '../results/metrics.js';

export type { Scope };

import type { ResultsDocument, RunRecord, VariantResult } from '../results/types.js';
import { holm, minimumDetectable, pairedShift, pairsToDecide, type Shift, type ShiftMethod, welchShift } from './stats.js';

/** Memory figures, and (asked for by name) the throughput phase's requests/s, where lower is worse. */
export const GATE_METRICS = ['pss', 'uss', 'rss', 'throughput'] as const;
/** Where a figure is gated: a run's workers, master or total, or (PSS only) a soak's peak total. */
export type GateScope = Scope | 'peak';
export const SCOPES: readonly GateScope[] = ['worker', 'master', 'total', 'peak'];
export type Metric = (typeof GATE_METRICS)[number];

export interface GateOptions {
  metrics: Metric[];
  scopes: GateScope[];
  /** The practical threshold: a shift counts when it exceeds this percentage of the base figure… */
  limitPercent: number;
  /**
   * …and this many bytes per process the figure covers (one for a worker's or the master's, every
   * process of the tree for a total or a peak): the threshold is the larger of the two.
   */
  floorBytes: number;
  /** The false-alarm level of the whole family of rows (Holm's correction spreads it over them). */
  alpha: number;
  /**
   * The practical threshold of a throughput row, in percent of the base's requests/s: a host's throughput
   * moves far more from run to run than its memory (4 sync workers on 2 cores: 770 or 940 requests/s by boot).
   */
  throughputLimitPercent: number;
}

/**
 * Defaults from this machine's measurements (docs/ci.md, `memcompare calibrate preload-vs-nopreload
 * --pairs 20 --runs 5`): a quarter of a MiB per process (256 MiB over a thousand workers) or half a
 * percent, whichever is larger. Per worker that is 256 KiB, below the +512 KiB per worker the runs see
 * at p ~ 1e-10, so that change is a regression at 5 runs (noise there: 24–55 KiB sd of a pair's
 * difference). A total carries every process's floor: its noise (140–344 KiB sd, the preload runs
 * varying together) left 7 of 20 A/A comparisons undecided against a flat 256 KiB or 0.5%; none now.
 */
export const DEFAULT_GATE: GateOptions = {
  metrics: ['pss'],
  // The peak is gated when both sides soaked (results without a soak have no peak row).
  scopes: ['worker', 'master', 'total', 'peak'],
  limitPercent: 0.5,
  floorBytes: 256 * 1024,
  alpha: 0.05,
  throughputLimitPercent: 5,
};

/**
 * regression: the shift's interval lies above the threshold (after Holm's correction); pass: below it;
 * improvement: a pass whose interval lies below minus the threshold; inconclusive: it straddles it.
 */
export type Verdict = 'regression' | 'improvement' | 'pass' | 'inconclusive';

export interface GateRow {
  variant: string;
  metric: Metric;
  scope: GateScope;
  /** What the row's figures count: bytes, or (the throughput row) requests per second, whose drop is the regression. */
  unit: 'bytes' | 'requests/s';
  /** Median over the base's runs, bytes. */
  baselineBytes: number;
  /** Median over the head's runs, bytes. */
  currentBytes: number;
  /** The estimated shift (paired: head run i − base run i), bytes. */
  changeBytes: number;
  changePercent: number;
  /** The shift's (1 − 2·alpha) interval, bytes. */
  lowBytes: number;
  highBytes: number;
  /** The practical threshold the interval is judged against, bytes. */
  thresholdBytes: number;
  /** The smallest shift this row would call a regression (80% of the time) at these runs and spread. */
  detectableBytes: number;
  method: ShiftMethod;
  /** Pairs compared (paired), or the smaller side's runs. */
  pairs: number;
  /** One-sided p of "the shift is at most the threshold" … */
  pValue: number;
  /** …after Holm's correction over every row. */
  pAdjusted: number;
  verdict: Verdict;
  /** Inconclusive: the pairs that would decide it at this spread (null: more than 200). */
  pairsToDecide?: number | null;
  /** Why, in words. */
  reason: string;
}

const field = { pss: 'pssBytes', uss: 'ussBytes', rss: 'rssBytes', throughput: 'pssBytes' } as const;

/** A row's amount as its unit says: a size, or requests/s ("+" on a change when `signed`). */
export function amountText(r: Pick<GateRow, 'unit'>, x: number, signed = false): string {
  if (r.unit === 'bytes') return signed ? signedSize(x) : size(x);
  return `${signed && x >= 0 ? '+' : ''}${x.toFixed(x !== 0 && Math.abs(x) < 10 ? 1 : 0)} requests/s`;
}

/**
 * The per-run values of a metric in a scope (the metric table's definition: results/metrics.ts). Throughput is
 * one figure of a run (its phase's requests/s, scope total); a run without a whole phase gives no row.
 */
export function runValues(runs: readonly RunRecord[], metric: Metric, scope: GateScope): number[] | undefined {
  if (metric === 'throughput') {
    const rps = runs.map((r) => (r.throughput && !r.throughput.cut ? r.throughput.requestsPerSecond : undefined));
    return scope === 'total' && rps.every((x) => x !== undefined) ? (rps as number[]) : undefined;
  }
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

/** Pairs run i of base with run i of head (the indices both sides finished): head − base, per pair. */
export function pairedValues(bv: VariantResult, cv: VariantResult, metric: Metric, scope: GateScope): number[] | undefined {
  const byIndex = new Map(bv.runs.map((r) => [r.index, r]));
  const both = cv.runs.filter((r) => byIndex.has(r.index));
  const c = runValues(both, metric, scope);
  const b = runValues(
    both.map((r) => byIndex.get(r.index) as RunRecord),
    metric,
    scope,
  );
  return b && c ? c.map((x, i) => x - (b[i] as number)) : undefined;
}

/**
 * A row's practical threshold: the limit's percentage of the base figure, or the floor per process the
 * figure covers (one worker or the master; for a total or a peak the base runs' whole tree, median).
 */
export function rowThreshold(
  runs: readonly { processes: readonly unknown[] }[],
  scope: GateScope,
  baseBytes: number,
  o: Pick<GateOptions, 'floorBytes' | 'limitPercent'>,
): number {
  const processes = scope === 'worker' || scope === 'master' ? 1 : Math.max(1, median(runs.map((r) => r.processes.length)));
  return Math.max(o.floorBytes * processes, (Math.abs(baseBytes) * o.limitPercent) / 100);
}

/**
 * Every variant × metric × scope of head against base. `paired`: both sides come from one interleaved
 * run (`run --baseline-ref`), so run i of head is compared with run i of base and the runner's drift
 * cancels; otherwise Welch's unpaired test.
 */
export function evaluateGate(
  baseline: ResultsDocument,
  current: ResultsDocument,
  o: GateOptions = DEFAULT_GATE,
  paired = false,
): GateRow[] {
  assertComparable(baseline, current);
  type Pending = Omit<
    GateRow,
    | 'pAdjusted'
    | 'verdict'
    | 'reason'
    | 'detectableBytes'
    | 'pairsToDecide'
    | 'lowBytes'
    | 'highBytes'
    | 'method'
    | 'pairs'
    | 'pValue'
    | 'changeBytes'
    | 'changePercent'
  > & {
    b: number[];
    c: number[];
    d?: number[];
    sign: 1 | -1;
  };
  const pending: Pending[] = [];
  for (const cv of current.variants) {
    const bv = baseline.variants.find((v) => v.name === cv.name);
    if (!bv) continue;
    for (const metric of o.metrics) {
      for (const scope of o.scopes) {
        const b = runValues(bv.runs, metric, scope);
        const c = runValues(cv.runs, metric, scope);
        if (!b || !c) continue;
        const d = paired ? pairedValues(bv, cv, metric, scope) : undefined;
        const bm = median(b);
        // The tests ask whether a figure rose past the threshold: requests/s are tested as their negation.
        const sign = metric === 'throughput' ? -1 : 1;
        pending.push({
          variant: cv.name,
          metric,
          scope,
          unit: metric === 'throughput' ? 'requests/s' : 'bytes',
          baselineBytes: bm,
          currentBytes: median(c),
          thresholdBytes: metric === 'throughput' ? (Math.abs(bm) * o.throughputLimitPercent) / 100 : rowThreshold(bv.runs, scope, bm, o),
          sign,
          b: b.map((x) => sign * x),
          c: c.map((x) => sign * x),
          ...(d && d.length > 0 ? { d: d.map((x) => sign * x) } : {}),
        });
      }
    }
  }
  // The strictest level Holm's procedure may ask of a row: what the exact test must be able to reach.
  const m = pending.length;
  const strictest = o.alpha / Math.max(1, m);
  const shifts = pending.map((p) =>
    p.d ? pairedShift(p.d, p.thresholdBytes, o.alpha, strictest) : welchShift(p.b, p.c, p.thresholdBytes, o.alpha),
  );
  const adjusted = holm(shifts.map((s) => s.pAbove));
  return pending.map(({ b: _b, c: _c, d: _d, sign, ...p }, i) => {
    const s = shifts[i] as Shift;
    const pAdj = adjusted[i] as number;
    const T = p.thresholdBytes;
    const sd = s.se * Math.sqrt(s.n);
    const detectable = minimumDetectable(sd, s.n, T, strictest);
    // Reported as measured: a throughput row's change and interval in requests/s (a drop negative).
    const [low, high] = sign === 1 ? [s.low, s.high] : [-s.high, -s.low];
    const interval = `${amountText(p, low, true)} to ${amountText(p, high, true)}`;
    const against = sign === 1 ? `the ${amountText(p, T)} threshold` : `the threshold of a ${amountText(p, T)} drop`;
    let verdict: Verdict;
    let reason: string;
    let toDecide: number | null | undefined;
    if (s.n < 2) {
      verdict = 'inconclusive';
      reason = `${s.n} run${s.n === 1 ? '' : 's'} per side: no spread to judge by; run 3 or more`;
      toDecide = null;
    } else if (pAdj < o.alpha) {
      verdict = 'regression';
      reason = `${interval} is ${sign === 1 ? 'above' : 'below'} ${against} (p=${pAdj.toPrecision(2)}, Holm over ${m} rows)`;
    } else if (s.pBelow < o.alpha) {
      verdict = s.high < -T ? 'improvement' : 'pass';
      reason = `${interval} is ${sign === 1 ? 'below' : 'above'} ${s.high < -T ? `minus ${against}` : against}`;
    } else {
      verdict = 'inconclusive';
      const byT = pairsToDecide(s.estimate, sd, T, s.estimate > T ? strictest : o.alpha);
      // Undecided at n: it takes more than n, whatever the t's arithmetic says (the exact test is coarser).
      toDecide = byT === undefined ? null : Math.max(byT, s.n + 1);
      const more = toDecide === null ? 'more than 200 runs per side would be needed' : `about ${toDecide} runs per side would decide it`;
      reason =
        s.low > T
          ? `${interval} is ${sign === 1 ? 'above' : 'below'} ${against}, but not after Holm's correction over ${m} rows (p=${pAdj.toPrecision(2)}); ${more}`
          : `${interval} straddles ${against}; ${more}`;
    }
    return {
      ...p,
      changeBytes: sign * s.estimate,
      changePercent: p.baselineBytes > 0 ? (sign * s.estimate * 100) / p.baselineBytes : 0,
      lowBytes: low,
      highBytes: high,
      detectableBytes: detectable,
      method: s.method,
      pairs: s.n,
      pValue: s.pAbove,
      pAdjusted: pAdj,
      verdict,
      ...(toDecide !== undefined ? { pairsToDecide: toDecide } : {}),
      reason,
    };
  });
}
