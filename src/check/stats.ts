/** Welch's t-test for the CI gate; the Student t distribution is jStat's. */
import { createRequire } from 'node:module';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

type JStat = { jStat: { studentt: { cdf(t: number, df: number): number } } };
let jstat: JStat | undefined;

/** P(T > t) for Student's t with df degrees of freedom (jStat's distribution). */
export function studentTUpper(t: number, df: number): number {
  jstat ??= createRequire(import.meta.url)('jstat') as JStat;
  return 1 - jstat.jStat.studentt.cdf(t, df);
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
