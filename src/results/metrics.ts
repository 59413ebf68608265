import type { ProcessRecord, RunRecord, VariantSummary } from './types.js';

/** Where a figure is taken in a run: the mean of its workers, its master, or the whole tree. */
export type Scope = 'worker' | 'master' | 'total';
/** Which amount of a process record. */
export type Field = 'pssBytes' | 'ussBytes' | 'rssBytes' | 'pssAnonBytes';
/** A summary key: every figure a variant's summary holds. */
export type MetricKey = Exclude<keyof VariantSummary, 'name' | 'runs' | 'workers' | 'throughput'>;

/** One figure of a run, declared once: aggregation, tables, reports, exports and the gate read this. */
export interface MetricDef {
  key: MetricKey;
  /** kebab-case measure name for dashboards (csv, gab, bmf). */
  slug: string;
  /** What tables print. */
  label: string;
  scope: Scope;
  field: Field;
  unit: 'bytes';
  /** In the comparison of variants (terminal, Markdown, summary.comparisons). */
  compared: boolean;
  /** In the machine-readable exports. */
  exported: boolean;
  /** A figure not summed from the processes (a soak's peak); undefined for runs without it. */
  extract?: (run: RunRecord) => number | undefined;
}

const m = (key: MetricKey, slug: string, label: string, scope: Scope, field: Field, compared: boolean, exported: boolean): MetricDef => ({
  key,
  slug,
  label,
  scope,
  field,
  unit: 'bytes',
  compared,
  exported,
});

export const METRICS: readonly MetricDef[] = [
  m('workerPssBytes', 'pss-per-worker', 'PSS per worker', 'worker', 'pssBytes', true, true),
  m('workerUssBytes', 'uss-per-worker', 'USS per worker', 'worker', 'ussBytes', true, true),
  m('workerRssBytes', 'rss-per-worker', 'RSS per worker', 'worker', 'rssBytes', true, true),
  m('masterPssBytes', 'pss-master', 'PSS of master', 'master', 'pssBytes', true, true),
  m('masterUssBytes', 'uss-master', 'USS of master', 'master', 'ussBytes', false, false),
  m('masterRssBytes', 'rss-master', 'RSS of master', 'master', 'rssBytes', false, false),
  m('totalPssBytes', 'pss-total', 'PSS total', 'total', 'pssBytes', true, true),
  m('totalUssBytes', 'uss-total', 'USS total', 'total', 'ussBytes', true, true),
  // Sum of RSS counts shared pages once per process: shown only to show why it misleads.
  m('totalRssBytes', 'rss-total', 'RSS summed (misleading)', 'total', 'rssBytes', true, false),
  m('totalPssAnonBytes', 'pss-anon-total', 'Pss_Anon total', 'total', 'pssAnonBytes', false, true),
  // The largest total PSS sampled under a soak's load: only for runs with a soak.
  {
    ...m('peakTotalPssBytes', 'pss-peak', 'PSS total, peak under load', 'total', 'pssBytes', true, true),
    extract: (r) => r.soak?.peakTotalPssBytes,
  },
];

export const COMPARED_METRICS = METRICS.filter((d) => d.compared);
export const EXPORTED_METRICS = METRICS.filter((d) => d.exported);

/** The processes of a scope: workers, the master, or all of them. */
export function processesOf(run: Pick<RunRecord, 'processes'>, scope: Scope): ProcessRecord[] {
  return scope === 'total' ? run.processes : run.processes.filter((p) => p.role === scope);
}

/** A run's value of a field in a scope: the mean over its workers, the master's, or the tree's sum. */
export function runValue(run: Pick<RunRecord, 'processes'>, scope: Scope, field: Field): number {
  const ps = processesOf(run, scope);
  const sum = ps.reduce((s, p) => s + (p[field] ?? 0), 0);
  return scope === 'worker' ? (ps.length ? sum / ps.length : 0) : sum;
}
