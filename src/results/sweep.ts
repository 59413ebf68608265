import { median } from './aggregate.js';
import { linearFit } from './fit.js';
import { runValue } from './metrics.js';
import type { ResultsDocument, SweepPoint, SweepResult, SweepVariant, Warning } from './types.js';
import { WARNINGS } from './warnings.js';

/** Below this R², or above this residual of a point, the line does not describe the points. */
export const MIN_R2 = 0.98;
export const MAX_RESIDUAL_PERCENT = 3;

/**
 * The fit of a sweep: per scenario variant, total PSS (and USS) against the worker count by least
 * squares over every run's point. The slope is the marginal cost of one more worker (its private
 * memory); the intercept the fixed cost (the master, and what the workers share).
 */
export function analyzeSweep(doc: ResultsDocument, budgetBytes?: number): { sweep: SweepResult; warnings: Warning[] } {
  const byVariant = new Map<string, SweepPoint[]>();
  const counts = new Set<number>();
  for (const v of doc.variants) {
    if (!v.point || v.runs.length === 0) continue;
    counts.add(v.point.workers);
    const points = byVariant.get(v.point.variant) ?? [];
    points.push({
      workers: v.point.workers,
      totalPssBytes: v.runs.map((r) => runValue(r, 'total', 'pssBytes')),
      totalUssBytes: v.runs.map((r) => runValue(r, 'total', 'ussBytes')),
      totalRssBytes: v.runs.map((r) => runValue(r, 'total', 'rssBytes')),
      workerPssBytes: v.runs.map((r) => runValue(r, 'worker', 'pssBytes')),
      workerRssBytes: v.runs.map((r) => runValue(r, 'worker', 'rssBytes')),
      residualPercent: 0,
    });
    byVariant.set(v.point.variant, points);
  }
  const warnings: Warning[] = [];
  const variants: SweepVariant[] = [];
  for (const [name, unsorted] of byVariant) {
    const points = unsorted.sort((a, b) => a.workers - b.workers);
    const xs = points.flatMap((p) => p.totalPssBytes.map(() => p.workers));
    const pss = linearFit(
      xs,
      points.flatMap((p) => p.totalPssBytes),
    );
    const uss = linearFit(
      xs,
      points.flatMap((p) => p.totalUssBytes),
    );
    for (const p of points) {
      const fitted = pss.intercept + pss.slope * p.workers;
      p.residualPercent = fitted > 0 ? ((median(p.totalPssBytes) - fitted) * 100) / fitted : 0;
    }
    const out: SweepVariant = {
      name,
      fixedBytes: pss.intercept,
      perWorkerBytes: pss.slope,
      r2: pss.r2,
      uss: { fixedBytes: uss.intercept, perWorkerBytes: uss.slope, r2: uss.r2 },
      points,
    };
    if (points.length >= 3) {
      if (pss.r2 < MIN_R2 || points.some((p) => Math.abs(p.residualPercent) > MAX_RESIDUAL_PERCENT)) {
        // The point to name: the one farthest from the line through the others (an outlier pulls the
        // least-squares line, which then misses the good points too).
        const deviation = (p: SweepPoint) => {
          const others = points.filter((q) => q !== p);
          const f = linearFit(
            others.map((q) => q.workers),
            others.map((q) => median(q.totalPssBytes)),
          );
          const expected = f.intercept + f.slope * p.workers;
          return expected > 0 ? ((median(p.totalPssBytes) - expected) * 100) / expected : 0;
        };
        const worst = points.map((p) => ({ p, d: deviation(p) })).reduce((a, b) => (Math.abs(b.d) > Math.abs(a.d) ? b : a));
        warnings.push({
          kind: 'not-linear',
          variant: name,
          message: `total PSS of ${name} is not a line in the worker count (R² ${pss.r2.toFixed(4)}; the point at ${worst.p.workers} workers is ${worst.d.toFixed(1)}% off the line through the others)`,
          remedy: WARNINGS['not-linear'].remedy,
        });
      }
    }
    const last = points.at(-1);
    // A soak over several routes found a transient peak: every worker may be at it at once (the load decides
    // which worker serves what), so each one's room holds it on top of its share of the line.
    const peak = worstRoutePeak(doc, name);
    if (peak) out.transientPeak = peak;
    if (budgetBytes !== undefined && last) {
      out.budgetBytes = budgetBytes;
      const perWorker = pss.slope + (peak?.bytes ?? 0);
      out.maxWorkers = perWorker > 0 ? Math.max(0, Math.floor((budgetBytes - pss.intercept) / perWorker)) : undefined;
      out.maxWorkersByRssRule = Math.floor(budgetBytes / median(last.workerRssBytes));
      out.maxWorkersByPssRule = Math.floor(budgetBytes / median(last.workerPssBytes));
    }
    variants.push(out);
  }
  return { sweep: { workerCounts: [...counts].sort((a, b) => a - b), variants }, warnings };
}

/** The largest transient peak any route reached in a soak of one sweep variant's runs, with its route. */
function worstRoutePeak(doc: ResultsDocument, variant: string): { bytes: number; path: string } | undefined {
  let worst: { bytes: number; path: string } | undefined;
  for (const v of doc.variants) {
    if (v.point?.variant !== variant) continue;
    for (const r of v.runs)
      for (const route of r.soak?.routes?.byRoute ?? [])
        if (route.transientPeakBytes > (worst?.bytes ?? 0)) worst = { bytes: route.transientPeakBytes, path: route.path };
  }
  return worst;
}

/** Total PSS the fit predicts at `workers`. */
export const predictTotalPss = (v: Pick<SweepVariant, 'fixedBytes' | 'perWorkerBytes'>, workers: number) =>
  v.fixedBytes + v.perWorkerBytes * workers;
