import type { ResultsDocument, Spread, VariantSummary } from '../results.js';

/** The figures every machine-readable export lists: one per variant and metric, in bytes. */
export const EXPORTED_METRICS = [
  ['workerPssBytes', 'pss-per-worker', 'PSS per worker'],
  ['workerUssBytes', 'uss-per-worker', 'USS per worker'],
  ['workerRssBytes', 'rss-per-worker', 'RSS per worker'],
  ['masterPssBytes', 'pss-master', 'PSS of master'],
  ['totalPssBytes', 'pss-total', 'PSS total'],
  ['totalUssBytes', 'uss-total', 'USS total'],
  ['totalPssAnonBytes', 'pss-anon-total', 'Pss_Anon total'],
] as const;

export interface MetricRow {
  variant: string;
  /** Key in VariantSummary. */
  metric: (typeof EXPORTED_METRICS)[number][0];
  /** kebab-case measure name for dashboards. */
  slug: string;
  label: string;
  runs: number;
  spread: Spread;
}

export function metricRows(doc: ResultsDocument): MetricRow[] {
  return doc.summary.variants.flatMap((v: VariantSummary) =>
    EXPORTED_METRICS.map(([metric, slug, label]) => {
      // Per-worker figures are means over workers: whole bytes are precise enough for any dashboard.
      const s = v[metric];
      const spread = { median: Math.round(s.median), min: Math.round(s.min), max: Math.round(s.max), spreadPercent: s.spreadPercent };
      return { variant: v.name, metric, slug, label, runs: v.runs, spread };
    }),
  );
}
