import { medianRunIndex } from '../results/aggregate.js';
import type { ResultsDocument } from '../results/types.js';
import { PRIMARY, round1 } from './charts.js';

/** (e) A soak: total PSS over time per variant, and each worker's USS and shared part over requests served. */
export function soakSpecs(doc: ResultsDocument): { total: object; workers: object } | undefined {
  const runs = doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return run?.soak ? [{ variant: v.name, t: run.soak.timeline }] : [];
  });
  if (runs.length === 0) return undefined;
  const total = runs.flatMap(({ variant, t }) =>
    t.tMs.map((ms, i) => ({ variant, s: ms / 1000, mib: round1(t.processes.reduce((sum, p) => sum + (p.pssBytes[i] ?? 0), 0)) })),
  );
  const workers = runs.flatMap(({ variant, t }) =>
    t.processes
      .filter((p) => p.role === 'worker')
      .flatMap((p) =>
        t.requests.flatMap((req, i) =>
          p.ussBytes[i] === null
            ? []
            : [
                { variant, worker: `${variant} ${p.pid}`, requests: req, part: 'USS (private)', mib: round1(p.ussBytes[i] as number) },
                {
                  variant,
                  worker: `${variant} ${p.pid}`,
                  requests: req,
                  part: 'shared (Shared_Clean + Shared_Dirty)',
                  mib: round1(p.sharedBytes[i] ?? 0),
                },
              ],
        ),
      ),
  );
  const replaced = doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return (run?.soak?.replacements ?? []).map((r) => ({ variant: v.name, s: r.tMs / 1000 }));
  });
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif' } };
  return {
    total: {
      ...base,
      title: {
        text: 'Total PSS under load',
        subtitle: `${doc.scenario.name}: median run of each variant, sampled during the soak${replaced.length > 0 ? '; dotted: a worker replaced' : ''}`,
      },
      width: 420,
      height: 240,
      layer: [
        {
          name: PRIMARY,
          data: { values: total },
          mark: { type: 'line', point: false },
          // Drag to pan, wheel to zoom (in the HTML report; the SVG is drawn once).
          params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
          encoding: {
            x: { field: 's', type: 'quantitative', title: 'seconds into the soak' },
            y: { field: 'mib', type: 'quantitative', title: 'total PSS (MiB)', scale: { zero: false } },
            color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom' } },
            tooltip: [{ field: 'variant' }, { field: 's', title: 'seconds' }, { field: 'mib', title: 'total PSS, MiB' }],
          },
        },
        // Each replacement as a mark: a worker forked without preloading imports the app again (a spike).
        ...(replaced.length > 0
          ? [
              {
                data: { values: replaced },
                mark: { type: 'rule', strokeDash: [2, 3], opacity: 0.6 },
                encoding: { x: { field: 's', type: 'quantitative' }, color: { field: 'variant', type: 'nominal' } },
              },
            ]
          : []),
      ],
    },
    workers: {
      ...base,
      title: {
        text: "Each worker's private and shared memory over requests served",
        subtitle: 'copy-on-write erosion shows in the shared part',
      },
      data: { values: workers },
      facet: { column: { field: 'part', type: 'nominal', title: null } },
      spec: {
        name: PRIMARY,
        width: 300,
        height: 220,
        mark: { type: 'line' },
        encoding: {
          x: { field: 'requests', type: 'quantitative', title: 'requests served (all workers)' },
          y: { field: 'mib', type: 'quantitative', title: 'MiB' },
          color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom' } },
          detail: { field: 'worker', type: 'nominal' },
        },
      },
    },
  };
}
