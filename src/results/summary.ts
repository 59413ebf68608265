import { compareVariants, summarizeVariant } from './aggregate.js';
import { compareThroughput, summarizeThroughput } from './throughput.js';
import type { ResultsDocument, VariantResult, Warning } from './types.js';
import { NOISY_PERCENT, noisyWarning } from './warnings.js';

/**
 * Which variants are compared with which: base against head of each variant when a baseline ref was
 * measured; sweep points against the first variant at the same worker count; otherwise (undefined)
 * every variant against the first.
 */
export function comparisonPairs(variants: readonly VariantResult[]): [string, string][] | undefined {
  const pairs = variants.some((v) => v.point)
    ? variants.flatMap((v) => {
        const first = variants.find((x) => x.point?.workers === v.point?.workers);
        return first && first !== v ? [[first.name, v.name] as [string, string]] : [];
      })
    : variants.filter((v) => v.revision?.role === 'base').map((v) => [v.name, v.name.replace(/@base$/, '')] as [string, string]);
  return pairs.length > 0 ? pairs : undefined;
}

/** The document's summary and warnings from its runs: every run's warnings, and `noisy` for a spread variant. */
export function summarize(variants: readonly VariantResult[]): Pick<ResultsDocument, 'summary' | 'warnings'> {
  const summaries = variants
    .filter((v) => v.runs.length > 0)
    .map((v) => {
      const s = summarizeVariant(v);
      const throughput = summarizeThroughput(v);
      return throughput ? { ...s, throughput } : s;
    });
  const warnings: Warning[] = variants.flatMap((v) => v.runs.flatMap((r) => r.warnings));
  for (const s of summaries) {
    if (s.runs > 1 && s.totalPssBytes.spreadPercent > NOISY_PERCENT) warnings.push(noisyWarning(s.name, s.totalPssBytes.spreadPercent));
  }
  const pairs = comparisonPairs(variants);
  const withRuns = variants.filter((v) => v.runs.length > 0);
  const speed = compareThroughput(withRuns, pairs ?? withRuns.slice(1).map((v) => [withRuns[0]?.name ?? '', v.name]));
  return {
    summary: { variants: summaries, comparisons: compareVariants(summaries, pairs), ...(speed.length > 0 ? { throughput: speed } : {}) },
    warnings,
  };
}
