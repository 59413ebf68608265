/** Sums of squares and products about the means: what a least-squares slope is made of. */
export function centeredSums(
  xs: readonly number[],
  ys: readonly number[],
): { sxx: number; sxy: number; syy: number; mx: number; my: number } {
  const n = xs.length;
  const mx = n ? xs.reduce((a, b) => a + b, 0) / n : 0;
  const my = n ? ys.reduce((a, b) => a + b, 0) / n : 0;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  return { sxx, sxy, syy, mx, my };
}

/** Ordinary least squares of y on x: y = intercept + slope × x, with R². */
export function linearFit(xs: readonly number[], ys: readonly number[]): { intercept: number; slope: number; r2: number } {
  const n = xs.length;
  if (n === 0) return { intercept: 0, slope: 0, r2: 0 };
  const { sxx, sxy, syy, mx, my } = centeredSums(xs, ys);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += ((ys[i] as number) - (intercept + slope * (xs[i] as number))) ** 2;
  return { intercept, slope, r2: syy > 0 ? 1 - sse / syy : 1 };
}
