import { createRequire } from 'node:module';

/** Student's t distribution, jStat's (the gate's tests and the throughput ratio's interval read it). */
type JStat = { jStat: { studentt: { cdf(t: number, df: number): number; inv(p: number, df: number): number } } };
let jstat: JStat | undefined;
const j = () => {
  jstat ??= createRequire(import.meta.url)('jstat') as JStat;
  return jstat.jStat;
};

/** P(T > t) for Student's t with df degrees of freedom. */
export function studentTUpper(t: number, df: number): number {
  return 1 - j().studentt.cdf(t, df);
}

/** The t with P(T > t) = p. */
export function studentTQuantile(p: number, df: number): number {
  return j().studentt.inv(1 - p, df);
}
