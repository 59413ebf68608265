/** Welch's t-test and the Student t distribution, for the CI gate. */

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    c = Math.abs(c) < tiny ? tiny : c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-12) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** P(T > t) for Student's t with df degrees of freedom. */
export function studentTUpper(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
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
