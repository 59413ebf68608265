import { type Exporter, text } from './exporter.js';
import { metricRows } from './metrics.js';

const MIB = 1048576;

export const json: Exporter = {
  format: 'json',
  describe: 'the results document itself (validated)',
  render: async (doc) => text(`${JSON.stringify(doc, null, 2)}\n`),
};

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csv: Exporter = {
  format: 'csv',
  describe: 'one row per variant and metric, in bytes',
  render: async (doc) => {
    const header = ['scenario', 'variant', 'metric', 'runs', 'median_bytes', 'min_bytes', 'max_bytes', 'spread_percent'];
    const lines = metricRows(doc).map((r) =>
      [doc.scenario.name, r.variant, r.slug, r.runs, r.spread.median, r.spread.min, r.spread.max, r.spread.spreadPercent.toFixed(3)]
        .map(csvCell)
        .join(','),
    );
    return text(`${[header.join(','), ...lines].join('\n')}\n`);
  },
};

/** github-action-benchmark's customSmallerIsBetter input. */
export const gab: Exporter = {
  format: 'gab',
  describe: 'github-action-benchmark customSmallerIsBetter entries, MiB',
  render: async (doc) => {
    const entries = metricRows(doc).map((r) => ({
      name: `${doc.scenario.name}/${r.variant}: ${r.label}`,
      unit: 'MiB',
      value: Number((r.spread.median / MIB).toFixed(3)),
      range: `± ${((r.spread.max - r.spread.min) / 2 / MIB).toFixed(3)}`,
      extra: `median of ${r.runs} runs; min ${(r.spread.min / MIB).toFixed(3)} MiB, max ${(r.spread.max / MIB).toFixed(3)} MiB`,
    }));
    for (const v of doc.sweep?.variants ?? []) {
      entries.push(
        {
          name: `${doc.scenario.name}/${v.name}: fixed cost`,
          unit: 'MiB',
          value: Number((v.fixedBytes / MIB).toFixed(3)),
          range: '',
          extra: `sweep fit, R² ${v.r2.toFixed(4)}`,
        },
        {
          name: `${doc.scenario.name}/${v.name}: cost per worker`,
          unit: 'MiB',
          value: Number((v.perWorkerBytes / MIB).toFixed(3)),
          range: '',
          extra: `sweep fit, R² ${v.r2.toFixed(4)}`,
        },
      );
    }
    return text(`${JSON.stringify(entries, null, 2)}\n`);
  },
};

/** Bencher Metric Format: {"<bench>": {"<measure>": {value, lower_value, upper_value}}}, bytes. */
export const bmf: Exporter = {
  format: 'bmf',
  describe: 'Bencher Metric Format, one benchmark per variant, bytes',
  render: async (doc) => {
    const out: Record<string, Record<string, { value: number; lower_value: number; upper_value: number }>> = {};
    for (const r of metricRows(doc)) {
      const bench = `${doc.scenario.name}/${r.variant}`;
      out[bench] ??= {};
      out[bench][r.slug] = { value: r.spread.median, lower_value: r.spread.min, upper_value: r.spread.max };
    }
    for (const v of doc.sweep?.variants ?? []) {
      const bench = `${doc.scenario.name}/${v.name}`;
      out[bench] ??= {};
      out[bench]['sweep-fixed'] = {
        value: Math.round(v.fixedBytes),
        lower_value: Math.round(v.fixedBytes),
        upper_value: Math.round(v.fixedBytes),
      };
      out[bench]['sweep-per-worker'] = {
        value: Math.round(v.perWorkerBytes),
        lower_value: Math.round(v.perWorkerBytes),
        upper_value: Math.round(v.perWorkerBytes),
      };
    }
    return text(`${JSON.stringify(out, null, 2)}\n`);
  },
};
