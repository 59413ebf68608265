import { COMPARED_METRICS, METRICS, processesOf, runValue } from './metrics.js';
import type { Comparison, RunRecord, Spread, VariantResult, VariantSummary } from './types.js';

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  const m = median(values);
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  return { median: m, min, max, spreadPercent: m > 0 ? ((max - min) * 100) / m : 0 };
}

/** Index of the run whose total PSS is the median (the run shown in tables). */
export function medianRunIndex(runs: readonly RunRecord[]): number {
  const order = runs.map((r, i) => ({ i, v: r.totals.pssBytes })).sort((a, b) => a.v - b.v);
  return order[Math.floor((order.length - 1) / 2)]?.i ?? 0;
}

export function summarizeVariant(v: VariantResult): VariantSummary {
  const out: Partial<VariantSummary> = {
    name: v.name,
    runs: v.runs.length,
    workers: median(v.runs.map((r) => processesOf(r, 'worker').length)),
  };
  for (const d of METRICS) {
    if (!d.extract) {
      out[d.key] = spread(v.runs.map((r) => runValue(r, d.scope, d.field)));
      continue;
    }
    const values = v.runs.map(d.extract).filter((x): x is number => x !== undefined);
    if (values.length > 0) out[d.key] = spread(values);
  }
  return out as VariantSummary;
}

/** Every variant against the first one (or the given [baseline, variant] pairs), metric by metric. */
export function compareVariants(summaries: readonly VariantSummary[], pairs?: readonly [string, string][]): Comparison[] {
  const [first, ...rest] = summaries;
  if (!first) return [];
  const byName = new Map(summaries.map((s) => [s.name, s]));
  const todo: [VariantSummary, VariantSummary][] = pairs
    ? pairs.flatMap(([b, v]) => {
        const bs = byName.get(b);
        const vs = byName.get(v);
        return bs && vs ? [[bs, vs] as [VariantSummary, VariantSummary]] : [];
      })
    : rest.map((v) => [first, v]);
  const out: Comparison[] = [];
  for (const [base, v] of todo) {
    for (const { key: metric } of COMPARED_METRICS) {
      const b = base[metric];
      const c = v[metric];
      if (!b || !c) continue;
      out.push({
        baseline: base.name,
        variant: v.name,
        metric,
        baselineBytes: b.median,
        variantBytes: c.median,
        savingBytes: b.median - c.median,
        savingPercent: b.median > 0 ? ((b.median - c.median) * 100) / b.median : 0,
        ratio: b.median > 0 ? c.median / b.median : 0,
        ratioMin: b.max > 0 ? c.min / b.max : 0,
        ratioMax: b.min > 0 ? c.max / b.min : 0,
      });
    }
  }
  return out;
}
