import { medianRunIndex } from '../results/aggregate.js';
import { fullThroughput } from '../results/throughput.js';
import type { ProcessRecord, ResultsDocument } from '../results/types.js';
import { importEsm } from './import-esm.js';

const MIB = 1048576;
export const round1 = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;
const round2 = (bytes: number) => Math.round((bytes / MIB) * 100) / 100;

/**
 * The name of each chart's main layer: its marks are one per data row (the HTML report's browser test
 * counts them, and hides a variant's). Vega names the mark `primary_marks`.
 */
export const PRIMARY = 'primary';

/** Raised when a chart's drawing changes: the examples in reports/ must then be made again (a test says so). */
export const CHART_VERSION = 2;

/** What the per-process chart can show (the HTML report's metric switch). */
export const PROCESS_METRICS = {
  pss: { title: 'PSS', of: (p: ProcessRecord) => p.pssBytes },
  uss: { title: 'USS (private)', of: (p: ProcessRecord) => p.ussBytes },
  rss: { title: 'RSS', of: (p: ProcessRecord) => p.rssBytes },
  shared: { title: 'shared (PSS − USS)', of: (p: ProcessRecord) => p.pssBytes - p.ussBytes },
} as const;
export type ProcessMetric = keyof typeof PROCESS_METRICS;

/** Labels processes of a run as "master", "worker 1", … in a stable order. */
export function processLabels(doc: ResultsDocument, variantIndex: number) {
  const v = doc.variants[variantIndex];
  const run = v?.runs[medianRunIndex(v.runs)];
  if (!v || !run) return [];
  let w = 0;
  let o = 0;
  const order = (role: string) => (role === 'master' ? 0 : role === 'worker' ? 1 : 2);
  return [...run.processes]
    .sort((a, b) => order(a.role) - order(b.role) || a.pid - b.pid)
    .map((p) => ({ p, label: p.role === 'master' ? 'master' : p.role === 'worker' ? `worker ${++w}` : `other ${++o}` }));
}

/** (a) Per process and variant: PSS split into private (USS) and shared (PSS − USS) — what preloading changes. */
export function pssSplitSpec(doc: ResultsDocument): object {
  const values = doc.variants.flatMap((v, vi) =>
    processLabels(doc, vi).flatMap(({ p, label }) => [
      { variant: v.name, process: label, part: 'private (USS)', mib: round1(p.ussBytes), order: 0 },
      { variant: v.name, process: label, part: 'shared (PSS − USS)', mib: round1(p.pssBytes - p.ussBytes), order: 1 },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'PSS of each process, split into private and shared memory',
      subtitle: `${doc.scenario.name}: median run of each variant`,
    },
    data: { values },
    facet: { column: { field: 'variant', type: 'nominal', title: 'variant', sort: doc.variants.map((v) => v.name) } },
    spec: {
      name: PRIMARY,
      width: 260,
      height: 260,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'process', type: 'nominal', title: 'process', sort: null, axis: { labelAngle: -40 } },
        y: { field: 'mib', type: 'quantitative', title: 'PSS (MiB)', stack: 'zero' },
        color: {
          field: 'part',
          type: 'nominal',
          title: 'part of PSS',
          scale: { domain: ['private (USS)', 'shared (PSS − USS)'], range: ['#d62728', '#1f77b4'] },
          legend: { orient: 'bottom' },
        },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [{ field: 'variant' }, { field: 'process' }, { field: 'part' }, { field: 'mib', title: 'MiB' }],
      },
    },
    config: { font: 'sans-serif' },
  };
}

/** One metric of every process of each variant's median run, side by side; a tooltip names its pid and run. */
export function processMetricSpec(doc: ResultsDocument, metric: ProcessMetric): object {
  const m = PROCESS_METRICS[metric];
  const values = doc.variants.flatMap((v, vi) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return processLabels(doc, vi).map(({ p, label }) => ({
      variant: v.name,
      process: label,
      pid: p.pid,
      run: run?.index ?? 0,
      mib: round2(m.of(p)),
    }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${m.title} of each process`, subtitle: `${doc.scenario.name}: median run of each variant` },
    data: { values },
    name: PRIMARY,
    width: 420,
    height: 260,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'process', type: 'nominal', title: 'process', sort: null, axis: { labelAngle: -40 } },
      xOffset: { field: 'variant', sort: doc.variants.map((v) => v.name) },
      y: { field: 'mib', type: 'quantitative', title: `${m.title} (MiB)` },
      color: { field: 'variant', type: 'nominal', sort: doc.variants.map((v) => v.name), legend: { orient: 'bottom' } },
      tooltip: [
        { field: 'variant' },
        { field: 'process' },
        { field: 'pid' },
        { field: 'run' },
        { field: 'mib', title: `${m.title}, MiB`, format: '.2f' },
      ],
    },
    config: { font: 'sans-serif' },
  };
}

/** (b) Total PSS per variant: median bar with the min–max of the runs. */
export function totalPssSpec(doc: ResultsDocument): object {
  const values = doc.summary.variants.map((s) => ({
    variant: s.name,
    median: round1(s.totalPssBytes.median),
    min: round1(s.totalPssBytes.min),
    max: round1(s.totalPssBytes.max),
    label: `${round1(s.totalPssBytes.median)} MiB`,
  }));
  const x = { field: 'variant', type: 'nominal', title: 'variant', sort: null, axis: { labelAngle: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Total PSS of the server (master + workers)',
      subtitle: `median of ${doc.summary.variants[0]?.runs ?? 0} runs; whiskers: min–max`,
    },
    width: 320,
    height: 260,
    data: { values },
    layer: [
      {
        name: PRIMARY,
        mark: { type: 'bar', color: '#1f77b4', width: { band: 0.6 } },
        encoding: {
          x,
          y: { field: 'median', type: 'quantitative', title: 'total PSS (MiB)' },
          tooltip: [{ field: 'variant' }, { field: 'median', title: 'median MiB' }, { field: 'min' }, { field: 'max' }],
        },
      },
      {
        mark: { type: 'rule', color: 'black', strokeWidth: 2 },
        encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
      },
      {
        mark: { type: 'text', dy: -12, fontSize: 12 },
        encoding: { x, y: { field: 'max', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
    config: { font: 'sans-serif' },
  };
}

interface VegaModule {
  View: new (runtime: unknown, options: { renderer: string }) => { toSVG(): Promise<string>; finalize(): void };
  parse(spec: unknown): unknown;
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

/** Compiles a Vega-Lite spec to Vega, in Node (the HTML report's page then needs only the Vega runtime). */
export async function compileSpec(spec: object): Promise<object> {
  const vl = await importEsm<VegaLiteModule>('vega-lite');
  return vl.compile(spec).spec as object;
}

/** Renders a Vega-Lite spec to an SVG document, headless (no browser, no canvas). */
export async function renderSvg(spec: object): Promise<string> {
  const [vega, compiled] = await Promise.all([importEsm<VegaModule>('vega'), compileSpec(spec)]);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // A white background, so the chart reads in dark-themed viewers too.
    return svg.replace(/<svg([^>]*)>/, '<svg$1><rect width="100%" height="100%" fill="white"/>');
  } finally {
    view.finalize();
  }
}

/** A mermaid xychart-beta block (GitHub renders it inline, unlike SVG). */
export function mermaidTotalPss(doc: ResultsDocument): string {
  const s = doc.summary.variants;
  const max = Math.max(...s.map((v) => v.totalPssBytes.max / MIB), 1);
  return [
    '```mermaid',
    'xychart-beta',
    `  title "Total PSS, MiB (median of ${s[0]?.runs ?? 0} runs)"`,
    `  x-axis [${s.map((v) => `"${v.name.replace(/["`\\]/g, "'")}"`).join(', ')}]`,
    `  y-axis "total PSS (MiB)" 0 --> ${Math.ceil((max * 1.1) / 10) * 10}`,
    `  bar [${s.map((v) => round1(v.totalPssBytes.median)).join(', ')}]`,
    '```',
  ].join('\n');
}

/**
 * (c) A sweep in two panels. Left, what was measured: the worker counts swept, each count's median with
 * min–max over its runs, and the fit through them. Right, the extrapolation: the fitted lines out to the
 * count each budget allows, and the budget. (One panel with both put the measured points in a corner.)
 */
export function sweepSpec(doc: ResultsDocument): object | undefined {
  const sweep = doc.sweep;
  if (!sweep) return undefined;
  const measured = sweep.variants.flatMap((v) =>
    v.points.map((p) => {
      const xs = p.totalPssBytes;
      const sorted = [...xs].sort((a, b) => a - b);
      return {
        variant: v.name,
        workers: p.workers,
        mib: round1(sorted[Math.floor((sorted.length - 1) / 2)] ?? 0),
        min: round1(sorted[0] ?? 0),
        max: round1(sorted.at(-1) ?? 0),
      };
    }),
  );
  const lo = Math.min(...sweep.workerCounts);
  const top = Math.max(...sweep.workerCounts);
  const far = Math.max(top, ...sweep.variants.map((v) => v.maxWorkers ?? 0));
  const fit = (from: number, to: number) =>
    sweep.variants.flatMap((v) =>
      [from, to].map((w) => ({ variant: v.name, workers: w, mib: round1(v.fixedBytes + v.perWorkerBytes * w) })),
    );
  const budget = sweep.variants.find((v) => v.budgetBytes !== undefined)?.budgetBytes;
  const x = { field: 'workers', type: 'quantitative', title: 'workers' };
  const y = { field: 'mib', type: 'quantitative', title: 'total PSS (MiB)' };
  const color = { field: 'variant', type: 'nominal', title: 'variant', legend: { orient: 'bottom' } };
  const left = {
    title: 'measured',
    width: 280,
    height: 260,
    layer: [
      { data: { values: fit(lo, top) }, mark: { type: 'line', strokeDash: [6, 3] }, encoding: { x, y, color } },
      {
        data: { values: measured },
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color },
      },
      {
        name: PRIMARY,
        data: { values: measured },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x,
          y,
          color,
          tooltip: [{ field: 'variant' }, { field: 'workers' }, { field: 'mib', title: 'median MiB' }, { field: 'min' }, { field: 'max' }],
        },
      },
    ],
  };
  const right: { title: string; width: number; height: number; layer: object[] } = {
    title: budget !== undefined ? 'extrapolated to the budget' : 'extrapolated',
    width: 280,
    height: 260,
    layer: [{ data: { values: fit(0, far) }, mark: { type: 'line', strokeDash: [6, 3] }, encoding: { x, y, color } }],
  };
  if (budget !== undefined) {
    right.layer.push({
      data: { values: [{ mib: round1(budget), label: `budget ${round1(budget)} MiB` }] },
      mark: { type: 'rule', color: '#d62728', strokeWidth: 2 },
      encoding: { y: { field: 'mib', type: 'quantitative' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Total PSS against the number of workers',
      subtitle: `${doc.scenario.name}: median and min–max of each count's runs, dashed: least-squares fit`,
    },
    hconcat: far > top ? [left, right] : [left],
    config: { font: 'sans-serif' },
  };
}

/** (d) Where the memory is: USS per worker of each mapping group, per variant (median runs). */
export function whereSpec(doc: ResultsDocument): object | undefined {
  const values = doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return (run?.mappings?.groups ?? []).map((g) => ({ variant: v.name, group: g.name, mib: round1(g.workerMean.ussBytes) }));
  });
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: "Where a worker's private memory is",
      subtitle: `${doc.scenario.name}: USS per worker by mapping group, median run of each variant`,
    },
    data: { values },
    name: PRIMARY,
    width: 420,
    height: { step: 14 },
    mark: 'bar',
    encoding: {
      y: { field: 'group', type: 'nominal', title: null, sort: '-x' },
      yOffset: { field: 'variant', sort: doc.variants.map((v) => v.name) },
      x: { field: 'mib', type: 'quantitative', title: 'USS per worker (MiB)' },
      color: { field: 'variant', type: 'nominal', sort: doc.variants.map((v) => v.name), legend: { orient: 'bottom' } },
      tooltip: [{ field: 'variant' }, { field: 'group' }, { field: 'mib', title: 'USS per worker, MiB' }],
    },
    config: { font: 'sans-serif' },
  };
}

/**
 * Latency percentiles of each variant's throughput phase (its median run by requests/s): p50, p90, p99 and
 * the slowest, on a log scale, one point per percentile and variant.
 */
export function latencySpec(doc: ResultsDocument): object | undefined {
  const values = doc.variants.flatMap((v) => {
    const runs = fullThroughput(v);
    const t = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((runs.length - 1) / 2)];
    if (!t) return [];
    return (['p50', 'p90', 'p99', 'max'] as const).map((p) => ({
      variant: v.name,
      percentile: p,
      ms: Math.round(t.latencyMs[p] * 100) / 100,
      requestsPerSecond: Math.round(t.requestsPerSecond),
    }));
  });
  if (values.length === 0) return undefined;
  const encoding = {
    x: { field: 'percentile', type: 'ordinal', sort: ['p50', 'p90', 'p99', 'max'], title: 'percentile', axis: { labelAngle: 0 } },
    y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
    color: { field: 'variant', type: 'nominal', sort: null },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Latency under the throughput phase', subtitle: "each variant's median run by requests/s" },
    width: 320,
    height: 260,
    data: { values },
    layer: [
      { mark: { type: 'line' }, encoding },
      {
        name: PRIMARY,
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          ...encoding,
          tooltip: [
            { field: 'variant' },
            { field: 'percentile' },
            { field: 'ms', title: 'ms' },
            { field: 'requestsPerSecond', title: 'requests/s' },
          ],
        },
      },
    ],
    config: { font: 'sans-serif' },
  };
}

/**
 * Per route of each soaked variant (its median run): what a call keeps (KiB) and the transient peak while it
 * was sent (MiB), side by side, each on its own scale.
 */
export function routesSpec(doc: ResultsDocument): object | undefined {
  const values = doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return (run?.soak?.routes?.byRoute ?? []).flatMap((r) => [
      {
        variant: v.name,
        route: `${r.method} ${r.path}`,
        measure: 'kept a call (KiB)',
        value: Math.round((r.bytesPerRequest / 1024) * 10) / 10,
      },
      { variant: v.name, route: `${r.method} ${r.path}`, measure: 'transient peak (MiB)', value: round1(r.transientPeakBytes) },
    ]);
  });
  if (values.length === 0) return undefined;
  const variants = [...new Set(values.map((x) => x.variant))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Which route keeps memory', subtitle: `${doc.scenario.name}: each route sent alone in turn during the soak` },
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null, sort: ['kept a call (KiB)', 'transient peak (MiB)'] } },
    spec: {
      name: PRIMARY,
      width: 220,
      height: { step: 16 },
      mark: 'bar',
      encoding: {
        y: { field: 'route', type: 'nominal', title: null },
        yOffset: { field: 'variant', sort: variants },
        x: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'variant', type: 'nominal', sort: variants, legend: { orient: 'bottom' } },
        tooltip: [{ field: 'variant' }, { field: 'route' }, { field: 'measure' }, { field: 'value' }],
      },
    },
    resolve: { scale: { x: 'independent' } },
    config: { font: 'sans-serif' },
  };
}
