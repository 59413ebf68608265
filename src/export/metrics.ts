import { EXPORTED_METRICS, type MetricKey } from '../results/metrics.js';
import type { ResultsDocument, Spread, VariantSummary } from '../results/types.js';

export interface MetricRow {
  variant: string;
  /** Key in VariantSummary. */
  metric: MetricKey;
  /** kebab-case measure name for dashboards. */
  slug: string;
  label: string;
  runs: number;
  spread: Spread;
}

/** One row per variant and exported metric (the metric table in results/metrics.ts). */
export function metricRows(doc: ResultsDocument): MetricRow[] {
  return doc.summary.variants.flatMap((v: VariantSummary) =>
    EXPORTED_METRICS.flatMap(({ key, slug, label }) => {
      // Per-worker figures are means over workers: whole bytes are precise enough for any dashboard.
      const s = v[key];
      if (!s) return [];
      const spread = { median: Math.round(s.median), min: Math.round(s.min), max: Math.round(s.max), spreadPercent: s.spreadPercent };
      return [{ variant: v.name, metric: key, slug, label, runs: v.runs, spread }];
    }),
  );
}
