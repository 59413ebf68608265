import type { ResultsDocument, VariantResult } from '../results/types.js';
import { mib } from './units.js';

export interface ReloadRow {
  variant: string;
  totalPss: string;
  /** Against the first variant. */
  ratio: string;
  picksUp: string;
  detail: string;
}

/** Does a reload pick up a code change? Per variant: fresh in every run, stale in every run, or mixed. */
function verdict(v: VariantResult): { picksUp: string; detail: string } | undefined {
  const reloads = v.runs.flatMap((r) => (r.reload ? [r.reload] : []));
  if (reloads.length === 0) return undefined;
  const stale = reloads.filter((r) => r.stale).length;
  const first = reloads[0];
  const detail = first
    ? `${first.signal}: ${JSON.stringify(first.before)} → ${JSON.stringify(first.after)}, ${first.workersReplaced} workers replaced in ${(first.reloadMs / 1000).toFixed(1)} s`
    : '';
  const picksUp = stale === 0 ? 'yes' : stale === reloads.length ? 'NO: stale code' : `mixed (${stale} of ${reloads.length} stale)`;
  return { picksUp, detail };
}

/** The trade-off the seed article describes, one row per variant: what it saves against whether a reload works. */
export function reloadRows(doc: ResultsDocument): ReloadRow[] {
  const first = doc.summary.variants[0];
  return doc.variants.flatMap((v) => {
    const r = verdict(v);
    const s = doc.summary.variants.find((x) => x.name === v.name);
    if (!r || !s) return [];
    const ratio = first && first.totalPssBytes.median > 0 ? `${(s.totalPssBytes.median / first.totalPssBytes.median).toFixed(2)}x` : '';
    return [{ variant: v.name, totalPss: mib(s.totalPssBytes.median), ratio, ...r }];
  });
}

export const RELOAD_HEAD = ['Variant', 'PSS total', 'vs first', 'Reload picks up code changes?', 'What happened'];
export const reloadCells = (r: ReloadRow) => [r.variant, r.totalPss, r.ratio, r.picksUp, r.detail];
