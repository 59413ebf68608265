import { medianRunIndex } from '../results/aggregate.js';
import type { MappingShare, ResultsDocument, RunRecord } from '../results/types.js';
import { mib, signedMib } from './units.js';

/** One group or mapping of a comparison: per-worker USS and PSS in the base variant and the other, and the change. */
export interface WhereRow {
  name: string;
  baseUss: number;
  otherUss: number;
  basePss: number;
  otherPss: number;
  masterBasePss: number;
  masterOtherPss: number;
}

export interface WhereComparison {
  base: string;
  other: string;
  groups: WhereRow[];
  /** The mappings whose per-worker USS changed most. */
  top: WhereRow[];
}

const medianRun = (doc: ResultsDocument, name: string): RunRecord | undefined => {
  const v = doc.variants.find((x) => x.name === name);
  return v ? v.runs[medianRunIndex(v.runs)] : undefined;
};

function rows(a: readonly MappingShare[], b: readonly MappingShare[]): WhereRow[] {
  const names = [...new Set([...a.map((s) => s.name), ...b.map((s) => s.name)])];
  return names.map((name) => {
    const x = a.find((s) => s.name === name);
    const y = b.find((s) => s.name === name);
    return {
      name,
      baseUss: x?.workerMean.ussBytes ?? 0,
      otherUss: y?.workerMean.ussBytes ?? 0,
      basePss: x?.workerMean.pssBytes ?? 0,
      otherPss: y?.workerMean.pssBytes ?? 0,
      masterBasePss: x?.master.pssBytes ?? 0,
      masterOtherPss: y?.master.pssBytes ?? 0,
    };
  });
}

/** Where each variant's saving comes from, against the comparisons' baselines, from the median runs' breakdowns. */
export function whereComparisons(doc: ResultsDocument): WhereComparison[] {
  const pairs = [...new Set(doc.summary.comparisons.map((c) => `${c.baseline}\u0000${c.variant}`))].map(
    (k) => k.split('\u0000') as [string, string],
  );
  return pairs.flatMap(([base, other]) => {
    const a = medianRun(doc, base)?.mappings;
    const b = medianRun(doc, other)?.mappings;
    if (!a || !b) return [];
    const change = (r: WhereRow) => Math.abs(r.otherUss - r.baseUss);
    return [
      {
        base,
        other,
        groups: rows(a.groups, b.groups).sort((x, y) => change(y) - change(x)),
        top: rows(a.top, b.top)
          .sort((x, y) => change(y) - change(x))
          .slice(0, 10),
      },
    ];
  });
}

export const WHERE_HEAD = (w: WhereComparison) => [
  'Where',
  `USS per worker (${w.base})`,
  `USS per worker (${w.other})`,
  'Change',
  `PSS per worker (${w.base})`,
  `PSS per worker (${w.other})`,
  'Change',
  `Master PSS (${w.base} → ${w.other})`,
];

export const whereCells = (r: WhereRow) => [
  r.name,
  mib(r.baseUss),
  mib(r.otherUss),
  signedMib(r.otherUss - r.baseUss),
  mib(r.basePss),
  mib(r.otherPss),
  signedMib(r.otherPss - r.basePss),
  `${mib(r.masterBasePss)} → ${mib(r.masterOtherPss)}`,
];

/** One sentence: the groups that carry most of the per-worker change, in bytes. */
export function whereHeadline(w: WhereComparison): string {
  const total = w.groups.reduce((s, r) => s + (r.otherUss - r.baseUss), 0);
  const main = w.groups
    .filter((r) => Math.abs(r.otherUss - r.baseUss) >= 0.05 * Math.abs(total))
    .slice(0, 3)
    .map((r) => `${r.name} ${signedMib(r.otherUss - r.baseUss)}`);
  return `${w.other} against ${w.base}: USS per worker ${signedMib(total)}, of which ${main.join(', ')}.`;
}
