/**
 * The gate's statistics: Welch's t-test for documents from separate runs, and for paired runs (base
 * and head interleaved on one runner) the paired t and the exact Wilcoxon signed-rank test, each as a
 * test against a practical threshold and as an interval. The Student t distribution is jStat's (results/student.ts); the
 * signed-rank distribution is counted exactly here (jStat has none).
 */
import { studentTQuantile, studentTUpper } from '../results/student.js';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
function medianOf(xs: readonly number[]): number {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export interface WelchResult {
  t: number;
  df: number;
  /** One-sided p-value for "current is larger than baseline". */
  pIncrease: number;
  /** One-sided p-value for "current is smaller than baseline". */
  pDecrease: number;
}

/**
 * Welch's t-test of current against baseline. With no spread at all on either side (identical runs),
 * any difference is certain and no difference is none.
 */
export function welch(baseline: readonly number[], current: readonly number[]): WelchResult {
  const diff = mean(current) - mean(baseline);
  const se2 = variance(baseline) / baseline.length + variance(current) / current.length;
  if (se2 === 0 || baseline.length < 2 || current.length < 2) {
    const p = diff > 0 ? 0 : 1;
    const q = diff < 0 ? 0 : 1;
    return { t: diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY, df: Number.NaN, pIncrease: p, pDecrease: q };
  }
  const t = diff / Math.sqrt(se2);
  const vb = variance(baseline) / baseline.length;
  const vc = variance(current) / current.length;
  const df = (vb + vc) ** 2 / ((vb * vb) / (baseline.length - 1 || 1) + (vc * vc) / (current.length - 1 || 1));
  return { t, df, pIncrease: studentTUpper(t, df), pDecrease: studentTUpper(-t, df) };
}

export type ShiftMethod = 'paired-t' | 'signed-rank' | 'welch';

/** A shift of head against base, with what the runs say about it against a threshold. */
export interface Shift {
  method: ShiftMethod;
  /** Pairs (paired) or the smaller side's runs (Welch). */
  n: number;
  /** The estimate: mean difference (t), Hodges–Lehmann median of Walsh averages (signed rank). */
  estimate: number;
  /** The one-sided (1 − alpha) bounds: together a (1 − 2·alpha) interval. */
  low: number;
  high: number;
  /** p of "the shift is at most the threshold" (small: a regression). */
  pAbove: number;
  /** p of "the shift is at least the threshold" (small: below it, a pass). */
  pBelow: number;
  /** Standard error of the estimate (the t methods' own; for signed rank, the paired t's). */
  se: number;
  /** Degrees of freedom of the t methods (for the runs a decision needs). */
  df: number;
}

/**
 * The exact null distribution of Wilcoxon's signed-rank statistic W+ for n pairs without ties:
 * counts[w] = how many of the 2^n sign patterns give W+ = w.
 */
function signedRankCounts(n: number): number[] {
  let counts = [1];
  for (let k = 1; k <= n; k++) {
    const next = new Array<number>(counts.length + k).fill(0);
    counts.forEach((c, w) => {
      next[w] = (next[w] as number) + c;
      next[w + k] = (next[w + k] as number) + c;
    });
    counts = next;
  }
  return counts;
}

/** P(W+ >= w) under no shift, n pairs (exact). */
function signedRankUpper(w: number, n: number): number {
  const counts = signedRankCounts(n);
  const total = 2 ** n;
  let s = 0;
  for (let k = Math.max(0, Math.ceil(w - 1e-9)); k < counts.length; k++) s += counts[k] as number;
  return s / total;
}

/** W+ of the differences d (zeros dropped, tied magnitudes given their mean rank). */
function wPlus(d: readonly number[]): { w: number; n: number } {
  const nz = d.filter((x) => x !== 0).map((x) => ({ x, a: Math.abs(x) }));
  nz.sort((p, q) => p.a - q.a);
  let w = 0;
  for (let i = 0; i < nz.length; ) {
    let k = i;
    while (k + 1 < nz.length && (nz[k + 1] as { a: number }).a === (nz[i] as { a: number }).a) k++;
    const rank = (i + k + 2) / 2;
    for (let m = i; m <= k; m++) if ((nz[m] as { x: number }).x > 0) w += rank;
    i = k + 1;
  }
  return { w, n: nz.length };
}

/** Walsh averages (d_i + d_j) / 2, i <= j, sorted: the signed-rank test's interval is read off them. */
function walshAverages(d: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < d.length; i++) for (let k = i; k < d.length; k++) out.push(((d[i] as number) + (d[k] as number)) / 2);
  return sorted(out);
}

/** The smallest number of pairs at which an exact signed-rank test can reach p = level at all (2^-n <= level). */
export function exactPairsFor(level: number): number {
  return Math.ceil(Math.log2(1 / level));
}

/**
 * The paired shift of head against base (d_i = head_i − base_i, run i against run i) tested against
 * `threshold`. The exact signed-rank test is used where it can reach `minLevel` (the smallest level
 * the decision may need, after correcting for many rows): its smallest p is 2^-n, so 5 pairs can never
 * go below 1/32. With fewer pairs, the paired t (which assumes the differences are roughly normal; the
 * runs' own spread is what it needs).
 */
export function pairedShift(d: readonly number[], threshold: number, alpha: number, minLevel: number): Shift {
  const n = d.length;
  const m = mean(d);
  const se = Math.sqrt(variance(d) / n);
  const df = n - 1;
  if (n >= exactPairsFor(minLevel) && n <= 30) {
    const walsh = walshAverages(d);
    const N = walsh.length;
    // k-th smallest Walsh average is the lower bound where P(W+ >= N − k + 1) <= alpha.
    const counts = signedRankCounts(n);
    const total = 2 ** n;
    let tail = 0;
    let k = 0;
    // Largest k with P(W+ <= k − 1) <= alpha: the bounds are walsh[k − 1] and walsh[N − k].
    for (let w = 0; w < counts.length; w++) {
      tail += counts[w] as number;
      if (tail / total > alpha) break;
      k = w + 1;
    }
    const low = k > 0 ? (walsh[k - 1] as number) : Number.NEGATIVE_INFINITY;
    const high = k > 0 ? (walsh[N - k] as number) : Number.POSITIVE_INFINITY;
    const above = wPlus(d.map((x) => x - threshold));
    const below = wPlus(d.map((x) => threshold - x));
    return {
      method: 'signed-rank',
      n,
      estimate: medianOf(walsh),
      low,
      high,
      pAbove: above.n === 0 ? 1 : signedRankUpper(above.w, above.n),
      pBelow: below.n === 0 ? 1 : signedRankUpper(below.w, below.n),
      se,
      df,
    };
  }
  if (n < 2) {
    return { method: 'paired-t', n, estimate: n ? m : 0, low: -Infinity, high: Infinity, pAbove: 1, pBelow: 1, se: Infinity, df: 0 };
  }
  return tShift('paired-t', n, m, se, df, threshold, alpha);
}

function tShift(method: ShiftMethod, n: number, estimate: number, se: number, df: number, threshold: number, alpha: number): Shift {
  if (se === 0) {
    // No spread at all: the difference is what it is.
    return {
      method,
      n,
      estimate,
      low: estimate,
      high: estimate,
      pAbove: estimate > threshold ? 0 : 1,
      pBelow: estimate < threshold ? 0 : 1,
      se,
      df,
    };
  }
  const t = (estimate - threshold) / se;
  const q = studentTQuantile(alpha, df);
  return {
    method,
    n,
    estimate,
    low: estimate - q * se,
    high: estimate + q * se,
    pAbove: studentTUpper(t, df),
    pBelow: studentTUpper(-t, df),
    se,
    df,
  };
}

/** The unpaired shift (documents from separate runs): Welch's difference of means against `threshold`. */
export function welchShift(base: readonly number[], head: readonly number[], threshold: number, alpha: number): Shift {
  const n = Math.min(base.length, head.length);
  const estimate = mean(head) - mean(base);
  if (base.length < 2 || head.length < 2) {
    return { method: 'welch', n, estimate, low: -Infinity, high: Infinity, pAbove: 1, pBelow: 1, se: Infinity, df: 0 };
  }
  const vb = variance(base) / base.length;
  const vh = variance(head) / head.length;
  const se = Math.sqrt(vb + vh);
  const df = se === 0 ? 1 : (vb + vh) ** 2 / ((vb * vb) / (base.length - 1) + (vh * vh) / (head.length - 1));
  return tShift('welch', n, estimate, se, df, threshold, alpha);
}

/** Holm's step-down adjusted p-values: reject row i at level alpha when adjusted[i] < alpha. */
export function holm(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * The minimum detectable effect: the smallest true shift the gate calls a regression with the given
 * power, at n pairs whose differences have standard deviation sd: threshold + (t_level + t_power)·sd/√n.
 */
export function minimumDetectable(sd: number, n: number, threshold: number, level: number, power = 0.8): number {
  if (n < 2 || !Number.isFinite(sd)) return Number.POSITIVE_INFINITY;
  const df = n - 1;
  return threshold + (studentTQuantile(level, df) + studentTQuantile(1 - power, df)) * (sd / Math.sqrt(n));
}

/**
 * The pairs that would decide a row: the smallest n at which the distance between the estimate and the
 * threshold exceeds the interval's half-width at that level, the spread staying what it is. Undefined
 * when no count up to `max` would.
 */
export function pairsToDecide(estimate: number, sd: number, threshold: number, level: number, max = 200): number | undefined {
  const gap = Math.abs(estimate - threshold);
  if (!(sd > 0)) return gap > 0 ? 2 : undefined;
  for (let n = 2; n <= max; n++) if (gap > studentTQuantile(level, n - 1) * (sd / Math.sqrt(n))) return n;
  return undefined;
}
