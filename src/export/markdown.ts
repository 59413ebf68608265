import { comparisonContent, verdictLines } from '../render/comparison.js';
import { containerLines } from '../render/container.js';
import { importsMarkdown } from '../render/imports.js';
import { lineText, mapStrings, mdTable, mdText } from '../render/markup.js';
import { RELOAD_HEAD, reloadCells, reloadRows } from '../render/reload.js';
import { RUN_COLUMNS, tableContent } from '../render/smem-table.js';
import { lifetimeLines, ROUTE_HEAD, routeCells, routeNote, soakedRuns, soakLines } from '../render/soak.js';
import { mib, statusTally, steadyText } from '../render/units.js';
import { warningWords } from '../render/warning.js';
import { WHERE_HEAD, whereCells, whereComparisons, whereHeadline } from '../render/where.js';
import { median, medianRunIndex } from '../results/aggregate.js';
import { predictTotalPss } from '../results/sweep.js';
import type { ResultsDocument } from '../results/types.js';
import { workerSetting } from '../servers/registry.js';
import { CHART_VERSION, mermaidTotalPss, pssSplitSpec, renderSvg, routesSpec, sweepSpec, totalPssSpec, whereSpec } from './charts.js';
import type { Exporter } from './exporter.js';
import { soakSpecs } from './soak-charts.js';

/** The smem-style table of a run, as Markdown: the same content, other cells and dividers. */
function processTable(doc: ResultsDocument, vi: number): string {
  const v = doc.variants[vi];
  const run = v?.runs[medianRunIndex(v.runs)];
  if (!v || !run) return '';
  const content = tableContent(run.processes, { columns: RUN_COLUMNS, totals: true, abbreviate: true });
  const body = content.rows.map((r) => r.map((c, i) => (content.columns[i]?.kind === 'command' ? `<code>${c}</code>` : c)));
  if (content.totals) body.push(content.totals.map((c, i) => (i === 0 ? `**${c} processes**` : c === '' ? '' : `**${c}**`)));
  return mdTable(
    content.columns.map((c) => c.header),
    body,
    content.columns.map((c) => (c.kind === 'amount' || c.kind === 'pid' ? 'r' : 'l')),
  );
}

function headline(doc: ResultsDocument): string {
  const lines: string[] = [];
  const what: Record<string, string> = {
    totalPssBytes: 'total PSS',
    workerPssBytes: 'PSS per worker',
    peakTotalPssBytes: 'peak total PSS under load',
  };
  for (const c of doc.summary.comparisons.filter((x) => x.metric in what)) {
    lines.push(
      `- **${c.variant}** vs ${c.baseline}: ${what[c.metric]} ${mib(c.variantBytes)} vs ${mib(c.baselineBytes)} — **${c.ratio.toFixed(2)}x** (${c.ratioMin.toFixed(2)}–${c.ratioMax.toFixed(2)} over the runs), saving ${mib(c.savingBytes)} (${c.savingPercent.toFixed(1)}%).`,
    );
  }
  for (const v of verdictLines(doc.summary)) lines.push(`- Memory and speed: ${v}.`);
  return lines.join('\n');
}

function comparisonTable(doc: ResultsDocument): string {
  const { head, rows } = comparisonContent(doc.summary.variants, doc.summary.comparisons, doc.summary.throughput);
  return mdTable(
    head,
    rows,
    head.map((_, i) => (i === 0 ? 'l' : 'r')),
  );
}

function method(doc: ResultsDocument): string {
  const sc = doc.scenario;
  const st = sc.settle;
  return [
    `- Server: ${sc.server}, ${sc.workers} workers. Variants, run interleaved (A B A B …), ${sc.runs} runs each:`,
    ...doc.variants.map((v) => `  - <code>${v.name}</code>: <code>${v.command.join(' ')}</code>`),
    `- Ready: the launched process tree listens on a free loopback port, answers HTTP, has ${sc.workers} workers, and every worker is idle (done loading the app).`,
    `- Warm-up: ${sc.warmup.until === 'steady' ? 'a first round of ' : ''}${sc.warmup.requests} requests over ${sc.warmup.connections} connections to <code>${sc.warmup.path}</code>, each on a connection of its own, the next sent as soon as one is answered${sc.warmup.workerPidHeader ? `; responses carry the worker's pid (<code>${sc.warmup.workerPidHeader}</code>), and top-up rounds follow until every worker has served` : ''}${sc.warmup.until === 'steady' ? "; then rounds of growing size until the workers' USS grows less than 1 KiB per request, or 0.5% of the total PSS per 400 requests" : ''}.`,
    `- Settling: the tree is sampled every ${st.intervalMs} ms until the same processes, the expected worker count and a total PSS within ${st.tolerancePercent}% of the previous sample hold for ${st.stableSamples} samples in a row (at most ${st.timeoutMs / 1000} s).`,
    "- Measurement: USS (Private_Clean + Private_Dirty), PSS, RSS and Swap of every process of the tree from `/proc/<pid>/smaps_rollup`. Per-worker figures are the mean over a run's workers; tables show the median over runs with min–max.",
    ...(sc.throughput ? [throughputMethod(doc)] : []),
  ].join('\n');
}

function host(doc: ResultsDocument): string {
  const h = doc.host;
  return mdTable(
    ['OS', 'Kernel', 'CPU', 'Cores', 'Memory', 'Node.js', 'Server'],
    [[h.os, h.kernel, h.cpu, String(h.cores), `${(h.memoryBytes / 1073741824).toFixed(1)} GiB`, h.node, h.server]],
    ['l', 'l', 'l', 'r', 'r', 'l', 'l'],
  );
}

function warmupLine(doc: ResultsDocument, vi: number): string {
  const v = doc.variants[vi];
  const run = v?.runs[medianRunIndex(v.runs)];
  if (!run) return '';
  const w = run.warmup;
  const codes = statusTally(w.statusCodes);
  const per = w.requestsPerWorker ? `; responses per worker: ${Object.values(w.requestsPerWorker).join(', ')}` : '';
  const top =
    w.topUp && w.trafficEvidence === 'connection'
      ? `; then one request held open per worker until each of the ${w.topUp.requests} workers had accepted one`
      : w.topUp
        ? `; top-up: ${w.topUp.requests} more requests in ${w.topUp.rounds} round${w.topUp.rounds === 1 ? '' : 's'}`
        : '';
  const steady = w.steady ? ` Warmed ${steadyText(w.steady)}.` : '';
  return `Warm-up of run ${run.index}: ${w.requests} responses (${codes}), ${w.errors} errors, latency p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms${per}${top}.${steady} Settled after ${run.settle.samples} samples.`;
}

/** Where the memory is, and where each variant's saving comes from (per group and top mappings). */
function whereSection(doc: ResultsDocument, chart: string | undefined): string[] {
  const comparisons = whereComparisons(doc);
  if (comparisons.length === 0) return [];
  const out = ['## Where the memory is', ''];
  for (const w of comparisons) {
    const head = WHERE_HEAD(w);
    const align = head.map((_, i) => (i === 0 ? 'l' : 'r')) as ('l' | 'r')[];
    out.push(
      `**${whereHeadline(w)}**`,
      '',
      mdTable(head, w.groups.map(whereCells), align),
      '',
      'The mappings whose USS per worker changed most:',
      '',
      mdTable(
        head,
        w.top.map((r) => whereCells({ ...r, name: `<code>${r.name}</code>` })),
        align,
      ),
      '',
    );
  }
  const readMs = doc.variants.flatMap((v) => v.runs.map((r) => r.mappings?.readMs ?? 0));
  out.push(
    `From full \`/proc/<pid>/smaps\` of the master and every worker at each run's final sample (smem's per-mapping formulas; read in ${Math.max(...readMs).toFixed(0)} ms at most per run). Groups: heap and anonymous memory; the interpreter (libpython, libruby, the executable); each package's extension modules or gem's shared objects; other files; stacks and special mappings.`,
    '',
  );
  if (chart) out.push(chart, '');
  return out;
}

/** Each soaked variant's routes, one row each: what a call keeps, with its fit, and the transient peak while it was sent. */
function routeTables(doc: ResultsDocument): string[] {
  return soakedRuns(doc).flatMap(({ variant, soak }) => {
    const routes = soak.routes?.byRoute;
    if (!routes) return [];
    return [
      `### Routes: ${variant}`,
      '',
      `| ${ROUTE_HEAD.join(' | ')} |`,
      `|---|${ROUTE_HEAD.slice(1)
        .map(() => '---:')
        .join('|')}|`,
      ...routes.map((r) => {
        const [route, ...rest] = routeCells(r);
        return `| \`${route}\` | ${rest.join(' | ')} |`;
      }),
      '',
      routeNote(soak.routes?.peakReadEveryMs ?? 0),
      '',
    ];
  });
}

/** Memory under a soak's load: peak against settled, erosion of the shared part, the sampler's cost; two charts. */
function soakSection(doc: ResultsDocument, total: string | undefined, workers: string | undefined, routes: string | undefined): string[] {
  const lines = soakLines(doc);
  if (lines.length === 0) return [];
  const lifetime = lifetimeLines(doc);
  const out = [
    '## Memory under load (soak)',
    '',
    ...lines.map((l) => `- ${l}`),
    '',
    ...(lifetime.length > 0 ? ['### Worker lifetime', '', ...lifetime.map((l) => `- ${l}`), ''] : []),
    ...routeTables(doc),
  ];
  out.push(
    "Erosion shows in the shared part, not in USS: an app that caches per request grows its private memory far faster than copy-on-write moves pages out of sharing. The efficiency is the shared part at the end over the master's RSS at the start.",
    '',
  );
  for (const chart of [total, workers, routes]) if (chart) out.push(chart, '');
  return out;
}

/** Reload staleness: per variant, what it saves next to whether a reload picks up a code change. */
function reloadSection(doc: ResultsDocument): string[] {
  const rows = reloadRows(doc);
  if (rows.length === 0) return [];
  return [
    '## Reload: memory saved against code picked up',
    '',
    mdTable(RELOAD_HEAD, rows.map(reloadCells), ['l', 'r', 'r', 'l', 'l']),
    '',
    'memcompare edited the app in a copy of its folder, sent the reload signal, waited until every worker had been replaced and was ready, warmed them and asked again. A stale reload serves the old code from new workers: they were forked from a master that imported the app once.',
    '',
  ];
}

/** The capacity section of a sweep: the fit per variant, its points, and how many workers fit a budget. */
function capacity(doc: ResultsDocument, chart: string | undefined): string[] {
  if (!doc.sweep) return [];
  const out = ['## Capacity (sweep)', ''];
  for (const v of doc.sweep.variants) {
    out.push(
      `**${v.name}**: total PSS = ${mib(v.fixedBytes)} + ${mib(v.perWorkerBytes)} × workers (R² ${v.r2.toFixed(4)}); total USS = ${mib(v.uss.fixedBytes)} + ${mib(v.uss.perWorkerBytes)} × workers.`,
      '',
      mdTable(
        ['Workers', 'Total PSS (median)', 'Fitted', 'Residual', 'PSS per worker', 'RSS per worker'],
        v.points.map((p) => [
          String(p.workers),
          mib(median(p.totalPssBytes)),
          mib(predictTotalPss(v, p.workers)),
          `${p.residualPercent.toFixed(1)}%`,
          mib(median(p.workerPssBytes)),
          mib(median(p.workerRssBytes)),
        ]),
        ['r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
    if (v.budgetBytes !== undefined) {
      out.push(
        `In ${mib(v.budgetBytes)}: **${v.maxWorkers ?? '–'} workers** by the fit — set \`${workerSetting(doc.variants.find((x) => x.point?.variant === v.name)?.server ?? doc.scenario.server, v.maxWorkers ?? 0)}\`; the RSS rule (budget ÷ RSS of one worker) says ${v.maxWorkersByRssRule}, the PSS rule ${v.maxWorkersByPssRule}.`,
        '',
      );
    }
  }
  out.push(
    "A worker's marginal cost is the slope: its private memory (USS), not its PSS (which includes a share of what all workers share) nor its RSS (which counts shared pages in full).",
    '',
  );
  if (chart) out.push(chart, '');
  return out;
}

export const markdown: Exporter = {
  format: 'markdown',
  describe: 'a report with tables and SVG charts written beside it',
  render: async (raw, { assetPrefix }) => {
    // Every string of the document is untrusted: escaped for Markdown text here, for one SVG or Mermaid line in the charts.
    const doc = mapStrings(raw, mdText);
    const plain = mapStrings(raw, lineText);
    // Every chart once: its file's suffix, its spec (undefined: nothing to draw) and its alt text.
    const soak = soakSpecs(plain);
    const charts = [
      {
        key: 'split',
        suffix: 'pss-split',
        spec: pssSplitSpec(plain),
        alt: 'PSS of each process, split into private (USS) and shared (PSS − USS), per variant',
      },
      { key: 'total', suffix: 'total-pss', spec: totalPssSpec(plain), alt: 'Total PSS per variant, median with min–max over runs' },
      { key: 'sweep', suffix: 'sweep', spec: sweepSpec(plain), alt: 'Total PSS against the number of workers, with the fit' },
      { key: 'where', suffix: 'where', spec: whereSpec(plain), alt: 'USS per worker by mapping group and variant' },
      { key: 'soakTotal', suffix: 'soak-total', spec: soak?.total, alt: 'Total PSS under load' },
      {
        key: 'routes',
        suffix: 'routes',
        spec: routesSpec(plain),
        alt: 'Per route: what a call keeps (KiB) and the transient peak while it was sent (MiB)',
      },
      {
        key: 'soakWorkers',
        suffix: 'soak-workers',
        spec: soak?.workers,
        alt: "Each worker's private and shared memory over requests served",
      },
    ].filter((c): c is typeof c & { spec: object } => c.spec !== undefined);
    const files =
      assetPrefix === undefined
        ? []
        : await Promise.all(charts.map(async (c) => ({ name: `${assetPrefix}-${c.suffix}.svg`, content: await renderSvg(c.spec) })));
    /** The Markdown image of a chart, when the report goes to a file (charts sit beside it). */
    const image = (key: string): string | undefined => {
      const i = charts.findIndex((c) => c.key === key);
      return assetPrefix === undefined || i < 0 ? undefined : `![${charts[i]?.alt}](${files[i]?.name})`;
    };
    const images =
      assetPrefix === undefined
        ? ['_SVG charts are written beside the report when it goes to a file (`--out FILE`)._']
        : [image('split') as string, '', image('total') as string];
    const parts = [
      `# memcompare: ${doc.scenario.name}`,
      '',
      doc.scenario.description,
      '',
      doc.complete ? '' : `> **Incomplete results**: ${doc.incompleteReason ?? 'the run did not finish'}. The runs below are valid.\n`,
      '## Result',
      '',
      headline(doc),
      '',
      comparisonTable(doc),
      '',
      'PSS counts each shared page once, split among the processes that map it: sum PSS for a total. RSS counts shared pages in every process, so summed RSS barely moves when sharing grows.',
      '',
      ...capacity(doc, image('sweep')),
      ...soakSection(doc, image('soakTotal'), image('soakWorkers'), image('routes')),
      ...reloadSection(doc),
      ...importsMarkdown(doc),
      ...(containerLines(doc).length > 0 ? ['## Container (memory cgroup)', '', ...containerLines(doc).map((l) => `- ${l}`), ''] : []),
      ...whereSection(doc, image('where')),
      '## Charts',
      '',
      ...images,
      '',
      mermaidTotalPss(plain),
      '',
      '## Processes (median run of each variant)',
      '',
      ...doc.variants.flatMap((v, vi) => [`### ${v.name}`, '', warmupLine(doc, vi), '', processTable(doc, vi), '']),
      '## Method',
      '',
      method(doc),
      '',
      '## Host',
      '',
      host(doc),
      '',
    ];
    if (doc.warnings.length > 0) {
      parts.push(
        '## Warnings',
        '',
        ...doc.warnings
          .map(warningWords)
          .map((w) => `- **${w.kind}**${w.where ? ` (${w.where})` : ''}: ${w.message}. *What to do:* ${w.remedy}.`),
        '',
      );
    }
    parts.push(
      `<sub>memcompare ${doc.tool.version}, ${doc.startedAt}</sub>`,
      '',
      `<!-- memcompare-charts: ${CHART_VERSION}; memcompare-schema: ${doc.schemaVersion} -->`,
      '',
    );
    return { text: parts.filter((p, i, a) => !(p === '' && a[i - 1] === '')).join('\n'), files };
  },
};

function throughputMethod(doc: ResultsDocument): string {
  const t = doc.scenario.throughput;
  const clients = [...new Set(doc.variants.flatMap((v) => v.runs.map((r) => r.throughput?.client).filter((c) => c !== undefined)))];
  const cpu = doc.variants.flatMap((v) => v.runs.map((r) => r.throughput?.loadCpuPercent).filter((c) => c !== undefined));
  const how = clients
    .map((c) => (c === 'autocannon' ? 'autocannon on kept-alive connections' : "a connection per request (memcompare's own client)"))
    .join(' or ');
  return `- Throughput: after the sample, a closed loop of ${t?.connections ?? '?'} connections for ${t?.durationSeconds ?? '?'} s (each sends its next request when its last is answered)${how ? `, through ${how}` : ''}; the load generator shares the host with the server${cpu.length > 0 ? ` (it used ${Math.min(...cpu).toFixed(0)}–${Math.max(...cpu).toFixed(0)}% of a core)` : ''}: compare the variants side by side, not with another host. The ratio's interval pairs run i of each variant (interleaved).`;
}
