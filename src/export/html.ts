import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { comparisonContent } from '../render/comparison.js';
import { containerLines } from '../render/container.js';
import { lineText, mapStrings } from '../render/markup.js';
import { RELOAD_HEAD, reloadCells, reloadRows } from '../render/reload.js';
import { RUN_COLUMNS, tableContent } from '../render/smem-table.js';
import { lifetimeLines, ROUTE_HEAD, routeCells, routeNote, soakedRuns, soakLines } from '../render/soak.js';
import { mib } from '../render/units.js';
import { warningWords } from '../render/warning.js';
import { whereComparisons, whereHeadline } from '../render/where.js';
import { medianRunIndex } from '../results/aggregate.js';
import type { MappingShare, ResultsDocument } from '../results/types.js';
import {
  CHART_VERSION,
  compileSpec,
  latencySpec,
  PRIMARY,
  PROCESS_METRICS,
  type ProcessMetric,
  processMetricSpec,
  pssSplitSpec,
  renderSvg,
  routesSpec,
  sweepSpec,
  totalPssSpec,
  whereSpec,
} from './charts.js';
import type { Exporter } from './exporter.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './html-page.js';
import { importsSection } from './imports-html.js';
import { soakSpecs } from './soak-charts.js';

/** Text for HTML, element content and attribute values alike. */
export function htmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON inside `<script type="application/json">`: no `<` can end the element or open a comment, and
 * U+2028/U+2029 stay escaped (JSON.parse reads all three escapes back as the same characters).
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The page forbids every network access: nothing loads, connects, posts or frames. Vega compiles its
 * expressions with Function (unsafe-eval) and the scripts and style are inline; images only as data.
 */
export const CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'";

/** Vega's runtime, inlined: the page loads nothing. (vega exports only its module entry; the UMD build sits beside it.) */
function vegaRuntime(): string {
  const entry = createRequire(import.meta.url).resolve('vega');
  const js = readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8');
  // A script element ends at the first `</script`, wherever it is; the runtime has none (checked, not assumed).
  if (/<\/script/i.test(js)) throw new Error('vega.min.js holds "</script": it cannot be inlined as is');
  return js;
}

/** Each soaked variant's routes as a table (the Markdown report's, the same cells). */
function routeTables(doc: ResultsDocument): string {
  return soakedRuns(doc)
    .filter(({ soak }) => soak.routes)
    .map(
      ({ variant, soak }) =>
        `<h3>Routes: ${htmlText(variant)}</h3>${table(ROUTE_HEAD, (soak.routes?.byRoute ?? []).map(routeCells))}<p>${htmlText(routeNote(soak.routes?.peakReadEveryMs ?? 0))}</p>`,
    )
    .join('');
}

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { cls?: string; numeric?: (i: number) => boolean } = {},
): string {
  const num = opts.numeric ?? ((i: number) => i > 0);
  const th = head.map((h, i) => `<th${num(i) ? ' class="num"' : ''}>${htmlText(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${num(i) ? ' class="num"' : ''}>${htmlText(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${opts.cls ? ` class="${opts.cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The rows of a chart's main layer per variant (its marks, one per row): what the browser test counts. */
export function primaryRows(spec: object): Record<string, number> {
  const find = (node: unknown, values: unknown[] | undefined): unknown[] | undefined => {
    if (node === null || typeof node !== 'object') return undefined;
    const o = node as { name?: unknown; data?: { values?: unknown[] } };
    const here = Array.isArray(o.data?.values) ? o.data.values : values;
    if (o.name === PRIMARY) return here;
    for (const child of Object.values(o)) {
      const found = typeof child === 'object' ? find(child, here) : undefined;
      if (found) return found;
    }
    return undefined;
  };
  const counts: Record<string, number> = {};
  for (const row of find(spec, undefined) ?? []) {
    const v = String((row as { variant?: unknown }).variant ?? '');
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

interface ChartDef {
  key: string;
  caption: string;
  /** Vega-Lite specs: `default`, or one per metric for the per-process chart. */
  specs: Record<string, object>;
}

function chartDefs(doc: ResultsDocument): ChartDef[] {
  const soak = soakSpecs(doc);
  const sweep = sweepSpec(doc);
  const where = whereSpec(doc);
  const latency = latencySpec(doc);
  const routes = routesSpec(doc);
  const metrics = Object.keys(PROCESS_METRICS) as ProcessMetric[];
  const defs: (ChartDef | undefined)[] = [
    {
      key: 'processes',
      caption: 'Each process of the median run of every variant, in the metric chosen above; hover for the figure, pid and run',
      specs: Object.fromEntries(metrics.map((m) => [m, processMetricSpec(doc, m)])),
    },
    {
      key: 'split',
      caption: 'PSS of each process, split into private (USS) and shared (PSS − USS)',
      specs: { default: pssSplitSpec(doc) },
    },
    { key: 'total', caption: 'Total PSS per variant, median with min–max over runs', specs: { default: totalPssSpec(doc) } },
    sweep
      ? {
          key: 'sweep',
          caption: 'Total PSS against the number of workers: measured points with their spread, and the fit',
          specs: { default: sweep },
        }
      : undefined,
    soak
      ? {
          key: 'soakTotal',
          caption: 'Total PSS under load; drag to pan, wheel to zoom; dotted: a worker replaced',
          specs: { default: soak.total },
        }
      : undefined,
    soak
      ? { key: 'soakWorkers', caption: "Each worker's private and shared memory over requests served", specs: { default: soak.workers } }
      : undefined,
    routes
      ? { key: 'routes', caption: 'Per route: what a call keeps, and the transient peak while it was sent', specs: { default: routes } }
      : undefined,
    where ? { key: 'where', caption: 'USS per worker by mapping group and variant', specs: { default: where } } : undefined,
    latency
      ? { key: 'latency', caption: 'Latency percentiles under the throughput phase, per variant (log scale)', specs: { default: latency } }
      : undefined,
  ];
  return defs.filter((d): d is ChartDef => d !== undefined);
}

/** Where the memory is, as one sortable table: each variant's groups and top mappings, private and shared per worker. */
function mappingTable(doc: ResultsDocument): string {
  const rows: { variant: string; kind: string; s: MappingShare }[] = doc.variants.flatMap((v) => {
    const m = v.runs[medianRunIndex(v.runs)]?.mappings;
    return m
      ? [...m.groups.map((s) => ({ variant: v.name, kind: 'group', s })), ...m.top.map((s) => ({ variant: v.name, kind: 'mapping', s }))]
      : [];
  });
  if (rows.length === 0) return '';
  const head = ['Variant', 'Kind', 'Where', 'Private per worker (USS)', 'Shared per worker (PSS − USS)', 'PSS per worker', 'Master PSS'];
  const cell = (bytes: number) => `<td class="num" data-value="${bytes}">${htmlText(mib(bytes, 2))}</td>`;
  const body = rows
    .map(
      ({ variant, kind, s }) =>
        `<tr><td>${htmlText(variant)}</td><td>${kind}</td><td><code>${htmlText(s.name)}</code></td>${cell(s.workerMean.ussBytes)}${cell(s.workerMean.pssBytes - s.workerMean.ussBytes)}${cell(s.workerMean.pssBytes)}${cell(s.master.pssBytes)}</tr>`,
    )
    .join('\n');
  const headlines = whereComparisons(doc).map((w) => `<p><strong>${htmlText(whereHeadline(w))}</strong></p>`);
  return [
    '<section id="where"><h2>Where the memory is</h2>',
    ...headlines,
    '<p>Click a column to sort. From full <code>/proc/&lt;pid&gt;/smaps</code> of the master and every worker at the median run’s final sample.</p>',
    `<table class="sortable" id="mapping-table"><thead><tr>${head.map((h, i) => `<th${i > 2 ? ' class="num"' : ''} data-column="${i}" tabindex="0">${htmlText(h)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>`,
    '</section>',
  ].join('\n');
}

function processTables(doc: ResultsDocument): string {
  return doc.variants
    .flatMap((v) => {
      const run = v.runs[medianRunIndex(v.runs)];
      if (!run) return [];
      const content = tableContent(run.processes, { columns: RUN_COLUMNS, totals: true, abbreviate: true });
      const rows = content.totals ? [...content.rows, content.totals] : content.rows;
      const numeric = (i: number) => content.columns[i]?.kind === 'amount' || content.columns[i]?.kind === 'pid';
      return [
        `<h3>${htmlText(v.name)}, run ${run.index} of ${v.runs.length}</h3>`,
        `<p><code>${htmlText(v.command.join(' '))}</code></p>`,
        table(
          content.columns.map((c) => c.header),
          rows,
          { numeric },
        ),
      ];
    })
    .join('\n');
}

const list = (lines: readonly string[]) => (lines.length === 0 ? '' : `<ul>${lines.map((l) => `<li>${htmlText(l)}</li>`).join('')}</ul>`);

export const html: Exporter = {
  format: 'html',
  describe: 'one offline HTML file: the document embedded, interactive charts, tables (works from file://)',
  render: async (raw) => {
    // Every string of the document is untrusted: escaped for HTML here, for one SVG line in the static charts.
    const doc = mapStrings(raw, lineText);
    const defs = chartDefs(doc);
    const charts = await Promise.all(
      defs.map(async (d) => {
        const first = Object.values(d.specs)[0] as object;
        const [svg, compiled] = await Promise.all([
          renderSvg(d.specs.pss ?? first),
          Promise.all(Object.entries(d.specs).map(async ([k, s]) => [k, await compileSpec(s)] as const)),
        ]);
        return { ...d, svg, compiled: Object.fromEntries(compiled), rows: primaryRows(first) };
      }),
    );
    const { head, rows } = comparisonContent(doc.summary.variants, doc.summary.comparisons, doc.summary.throughput);
    const reload = reloadRows(doc);
    const soak = soakLines(doc);
    const lifetime = lifetimeLines(doc);
    const containers = containerLines(doc);
    const h = doc.host;
    const data = {
      variants: doc.variants.map((v) => v.name),
      metrics: Object.fromEntries(Object.entries(PROCESS_METRICS).map(([k, m]) => [k, m.title])),
      charts: Object.fromEntries(charts.map((c) => [c.key, { specs: c.compiled, rows: c.rows }])),
      document: raw,
    };
    const page = [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8">',
      `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<meta name="generator" content="memcompare ${htmlText(doc.tool.version)}">`,
      `<meta name="memcompare-charts" content="${CHART_VERSION}">`,
      `<meta name="memcompare-schema" content="${htmlText(String(doc.schemaVersion))}">`,
      `<title>memcompare: ${htmlText(doc.scenario.name)}</title>`,
      `<style>${PAGE_STYLE}</style></head><body>`,
      `<h1>memcompare: ${htmlText(doc.scenario.name)}</h1>`,
      `<p>${htmlText(doc.scenario.description)}</p>`,
      doc.complete
        ? ''
        : `<p class="incomplete"><strong>Incomplete results</strong>: ${htmlText(doc.incompleteReason ?? 'the run did not finish')}. The runs shown are valid.</p>`,
      '<section id="result"><h2>Result</h2>',
      table(head, rows, { cls: 'comparison' }),
      '<p>PSS counts each shared page once, split among the processes that map it: sum PSS for a total. RSS counts shared pages in every process.</p></section>',
      // Shown by the script: without JavaScript the page is its tables and static charts.
      '<form id="controls" hidden><label>Metric <select id="metric">',
      ...Object.entries(PROCESS_METRICS).map(([k, m]) => `<option value="${k}">${htmlText(m.title)}</option>`),
      '</select></label> <fieldset id="variants"><legend>Variants</legend>',
      ...doc.variants.map((v) => `<label><input type="checkbox" checked value="${htmlText(v.name)}"> ${htmlText(v.name)}</label>`),
      '</fieldset></form>',
      '<section id="charts"><h2>Charts</h2>',
      ...charts.map(
        (c) =>
          `<figure class="chart" data-chart="${c.key}"><div class="view">${c.svg}</div><figcaption>${htmlText(c.caption)}</figcaption></figure>`,
      ),
      '</section>',
      soak.length > 0
        ? `<section id="soak"><h2>Memory under load (soak)</h2>${list(soak)}${lifetime.length > 0 ? `<h3>Worker lifetime</h3>${list(lifetime)}` : ''}${routeTables(doc)}</section>`
        : '',
      reload.length > 0
        ? `<section id="reload"><h2>Reload: memory saved against code picked up</h2>${table(RELOAD_HEAD, reload.map(reloadCells))}</section>`
        : '',
      importsSection(doc, htmlText),
      containers.length > 0 ? `<section id="container"><h2>Container (memory cgroup)</h2>${list(containers)}</section>` : '',
      mappingTable(doc),
      `<section id="processes"><h2>Processes (median run of each variant)</h2>${processTables(doc)}</section>`,
      '<section id="host"><h2>Host</h2>',
      table(
        ['OS', 'Kernel', 'CPU', 'Cores', 'Memory', 'Node.js', 'Server'],
        [[h.os, h.kernel, h.cpu, String(h.cores), `${(h.memoryBytes / 1073741824).toFixed(1)} GiB`, h.node, h.server]],
        { numeric: (i) => i === 3 || i === 4 },
      ),
      '</section>',
      doc.warnings.length > 0
        ? `<section id="warnings"><h2>Warnings</h2><ul>${doc.warnings
            .map(warningWords)
            .map(
              (w) =>
                `<li><strong>${htmlText(w.kind)}</strong>${w.where ? ` (${htmlText(w.where)})` : ''}: ${htmlText(w.message)}. <em>What to do:</em> ${htmlText(w.remedy)}.</li>`,
            )
            .join('')}</ul></section>`
        : '',
      `<footer>memcompare ${htmlText(doc.tool.version)}, ${htmlText(doc.startedAt)}</footer>`,
      '<div id="tooltip" role="tooltip" hidden></div>',
      `<script type="application/json" id="memcompare-data">${scriptJson(data)}</script>`,
      `<script>${vegaRuntime()}</script>`,
      `<script>${PAGE_SCRIPT}</script>`,
      '</body></html>',
      '',
    ];
    return { text: page.filter((p) => p !== '').join('\n'), files: [] };
  },
};
