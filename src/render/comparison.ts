import { COMPARED_METRICS } from '../results/metrics.js';
import type { Comparison, Spread, VariantSummary } from '../results/types.js';
import { mib } from './units.js';

export function spreadText(s: Spread): string {
  return s.min === s.max ? mib(s.median) : `${mib(s.median)} (${(s.min / 1048576).toFixed(1)}–${(s.max / 1048576).toFixed(1)})`;
}

/**
 * The comparison table's content: each compared metric for each variant (median, min–max), then the
 * saving and ratio of every other variant against the first. The terminal and Markdown tables differ
 * only in their cells' borders.
 */
export function comparisonContent(
  summaries: readonly VariantSummary[],
  comparisons: readonly Comparison[],
): { head: string[]; rows: string[][] } {
  const others = summaries.slice(1);
  const head = ['Metric', ...summaries.map((s) => s.name), ...others.flatMap((o) => [`Saving (${o.name})`, `Ratio (${o.name})`])];
  // A metric no variant has (a soak's peak, without a soak) is left out.
  const metrics = COMPARED_METRICS.filter(({ key }) => summaries.some((s) => s[key] !== undefined));
  const rows = metrics.map(({ key, label }) => {
    const row = [label, ...summaries.map((s) => (s[key] ? spreadText(s[key]) : ''))];
    for (const o of others) {
      const c = comparisons.find((x) => x.variant === o.name && x.metric === key);
      row.push(
        c ? `${mib(c.savingBytes)} (${c.savingPercent.toFixed(1)}%)` : '',
        c ? `${c.ratio.toFixed(2)}x (${c.ratioMin.toFixed(2)}–${c.ratioMax.toFixed(2)})` : '',
      );
    }
    return row;
  });
  return { head, rows };
}
