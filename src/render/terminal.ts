import { medianRunIndex } from '../results/aggregate.js';
import type { ResultsDocument, WarmupResult, Warning } from '../results/types.js';
import { comparisonContent, verdictLines } from './comparison.js';
import { containerLines } from './container.js';
import { importBullets, importLines } from './imports.js';
import { mapStrings, termText } from './markup.js';
import { RELOAD_HEAD, reloadCells, reloadRows } from './reload.js';
import { RUN_COLUMNS, renderSmemTable } from './smem-table.js';
import { lifetimeLines, soakLines } from './soak.js';
import { boxTable, wrapProse } from './table.js';
import { mib, statusTally, steadyText } from './units.js';
import { warningText } from './warning.js';
import { WHERE_HEAD, whereCells, whereComparisons, whereHeadline } from './where.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(4)} secs`;

/** A hey-style account of a warm-up: totals, status codes, latency distribution, errors. */
export function renderWarmup(w: WarmupResult, title: string): string {
  const lines = [
    `${title}: ${w.requests} responses to ${w.sent} requests over ${w.connections} connections, ${w.url}`,
    '',
    'Summary:',
    `  Total:        ${secs(w.durationMs)}`,
    `  Slowest:      ${secs(w.latencyMs.max)}`,
    `  Fastest:      ${secs(w.latencyMs.min)}`,
    `  Average:      ${secs(w.latencyMs.mean)}`,
    `  Requests/sec: ${w.requestsPerSecond.toFixed(1)}`,
    '',
    'Latency distribution:',
    ...(
      [
        ['10%', w.latencyMs.p10],
        ['25%', w.latencyMs.p25],
        ['50%', w.latencyMs.p50],
        ['75%', w.latencyMs.p75],
        ['90%', w.latencyMs.p90],
        ['97.5%', w.latencyMs.p97_5],
        ['99%', w.latencyMs.p99],
      ] as const
    ).map(([p, v]) => `  ${p.padStart(5)} in ${secs(v)}`),
    '',
    'Status code distribution:',
    ...Object.entries(w.statusCodes).map(([code, n]) => `  ${statusTally({ [code]: n })} responses`),
  ];
  if (w.requestsPerWorker) {
    lines.push('', `Responses per worker${w.topUp ? ', top-up included' : ''} (pid: count):`);
    lines.push(
      `  ${Object.entries(w.requestsPerWorker)
        .map(([pid, n]) => `${pid}: ${n}`)
        .join(', ')}`,
    );
  }
  if (w.topUp && w.trafficEvidence === 'connection') {
    lines.push('', `Every worker: ${w.topUp.requests} more requests, one held open per worker until each had accepted one, then answered`);
  } else if (w.topUp) {
    const codes = statusTally(w.topUp.statusCodes);
    lines.push(
      '',
      `Top-up: ${w.topUp.requests} more requests in ${w.topUp.rounds} round${w.topUp.rounds === 1 ? '' : 's'} until every worker had served (${codes})`,
    );
  }
  if (w.steady) lines.push('', `Warmed ${steadyText(w.steady)}`);
  if (w.errors > 0 || w.timeouts > 0) {
    lines.push('', 'Error distribution:', `  [${w.errors}] errors`, `  [${w.timeouts}] timeouts`);
  }
  return `${lines.join('\n')}\n`;
}

/** The comparison table: each metric for each variant (median, min–max), then saving and ratio; narrowed to `width`. */
export function renderComparison(summary: ResultsDocument['summary'], width?: number): string {
  const { head, rows } = comparisonContent(summary.variants, summary.comparisons, summary.throughput);
  return boxTable(head, rows, width);
}

export function renderWarnings(warnings: readonly Warning[]): string {
  if (warnings.length === 0) return '';
  return `${warnings.map(warningText).join('\n')}\n`;
}

/** A line cut to `width` columns with an ellipsis (a command is a flag away in full: --verbose). */
const fit = (line: string, width?: number) => (width && line.length > width ? `${line.slice(0, width - 1)}…` : line);

/**
 * What `memcompare run` prints when it is done. By default a screen, as hyperfine's is: one line per
 * variant (its command and how deep it was warmed), the comparison, where the saving is (one line),
 * a soak's or a reload's findings, the warnings, and where the rest is. `verbose`: every variant's
 * load generator summary and process table, the cgroup note and the "where" tables as well.
 * Fitted to `width` columns when given (a terminal's).
 */
export function renderRunSummary(raw: ResultsDocument, width?: number, verbose = false): string {
  if (verbose) return renderVerboseSummary(raw, width);
  const doc = mapStrings(raw, termText);
  const parts: string[] = [];
  const sc = doc.scenario;
  parts.push(
    fit(
      `== ${sc.name}: ${sc.server}, ${sc.workers} workers; ${doc.variants.map((v) => v.runs.length).join('/')} runs per variant, interleaved`,
      width,
    ),
  );
  for (const v of doc.variants) {
    const run = v.runs[medianRunIndex(v.runs)];
    if (!run) continue;
    const w = run.warmup;
    const depth = w.steady
      ? `warmed ${w.steady.requestsPerWorker.toFixed(0)} requests per worker${w.steady.targetRequestsPerWorker !== undefined ? ' (the common depth)' : ''}${w.steady.reached ? ', steady' : w.steady.linear ? ', growing per request' : w.steady.targetRequestsPerWorker !== undefined && !w.steady.bound ? `, still growing ${(w.steady.lastBytesPerRequest / 1024).toFixed(1)} KiB a request` : ', NOT steady'}`
      : `warmed ${w.requests} requests`;
    parts.push(fit(`  ${v.name}: ${v.command.join(' ')}`, width), fit(`    ${depth}; settled after ${run.settle.samples} samples`, width));
    const f = run.refork;
    if (f)
      parts.push(
        fit(
          `    reforked: ${f.workers} workers forked anew from a warm one; total PSS ${mib(f.beforeBytes)} before, ${mib(f.afterBytes)} right after (overstates the saving), ${mib(f.endBytes)} ${f.reachedDepth === false ? `warmed again, NOT to the same depth (${f.depthRequests} requests per worker)` : 'warmed again to the same depth'} (measured)${f.newWorkerUssBytes !== undefined && f.oldWorkerUssBytes !== undefined ? `; USS ${mib(f.newWorkerUssBytes)} a new worker against ${mib(f.oldWorkerUssBytes)} for the ones replaced (the mold's own growth from the re-run is in the total)` : ''}`,
          width,
        ),
      );
  }
  parts.push('');
  if (doc.summary.variants.length > 0) {
    parts.push('== Comparison (MiB, median (min–max) over the runs)');
    parts.push(renderComparison(doc.summary, width));
  }
  for (const w of whereComparisons(doc)) parts.push(`Where: ${whereHeadline(w)}`);
  for (const v of verdictLines(doc.summary)) parts.push(`Verdict: ${v}`);
  const soaks = soakLines(doc);
  if (soaks.length > 0) parts.push(`== Memory under load (soak)\n${soaks.map((l) => `- ${l}`).join('\n')}`);
  const lifetime = lifetimeLines(doc);
  if (lifetime.length > 0) parts.push(`== Worker lifetime\n${lifetime.map((l) => `- ${l}`).join('\n')}`);
  const imports = importLines(doc);
  if (imports.length > 0) parts.push(`== Imports (run --imports)\n${importBullets(imports).join('\n')}`);
  const reload = reloadRows(doc);
  if (reload.length > 0) {
    parts.push('== Reload: memory saved against code picked up\n', boxTable(RELOAD_HEAD, reload.map(reloadCells), width));
  }
  const warnings = renderWarnings(doc.warnings);
  if (warnings) parts.push(`\n${warnings}`);
  parts.push(
    'More: --verbose (each warm-up, process table and where the memory is), --html FILE (charts to explore), --markdown FILE, --json FILE.',
  );
  return `${wrapProse(parts.join('\n'), width).replace(/\n+$/, '')}\n`;
}

function renderVerboseSummary(raw: ResultsDocument, width?: number): string {
  const doc = mapStrings(raw, termText); // names, commands and warnings from another machine may hold escape sequences
  const parts: string[] = [];
  for (const v of doc.variants) {
    if (v.runs.length === 0) continue;
    const i = medianRunIndex(v.runs);
    const run = v.runs[i];
    if (!run) continue;
    const label = `${v.name}, run ${run.index} of ${v.runs.length} (median total PSS)`;
    parts.push(`== ${label}: ${v.command.join(' ')}\n`);
    parts.push(renderWarmup(run.warmup, 'Warm-up'));
    parts.push('');
    parts.push(renderSmemTable(run.processes, { columns: RUN_COLUMNS, totals: true, abbreviate: true, ...(width ? { width } : {}) }));
    parts.push('');
  }
  if (doc.summary.variants.length > 0) {
    parts.push(`== Comparison (${doc.summary.variants.map((s) => `${s.name}: ${s.runs} runs`).join(', ')}; MiB, median (min–max))\n`);
    parts.push(renderComparison(doc.summary, width));
    for (const v of verdictLines(doc.summary)) parts.push(`Verdict: ${v}`);
  }
  const containers = containerLines(doc);
  if (containers.length > 0) parts.push(`== Container (memory cgroup, read only)\n${containers.map((l) => `- ${l}`).join('\n')}\n`);
  const soaks = soakLines(doc);
  if (soaks.length > 0) parts.push(`== Memory under load (soak)\n${soaks.map((l) => `- ${l}`).join('\n')}\n`);
  const lifetime = lifetimeLines(doc);
  if (lifetime.length > 0) parts.push(`== Worker lifetime\n${lifetime.map((l) => `- ${l}`).join('\n')}\n`);
  const imports = importLines(doc);
  if (imports.length > 0) parts.push(`== Imports (run --imports)\n${importBullets(imports).join('\n')}\n`);
  for (const w of whereComparisons(doc)) {
    parts.push(`== Where the memory is: ${whereHeadline(w)}\n`, boxTable(WHERE_HEAD(w), w.groups.map(whereCells), width));
  }
  const reload = reloadRows(doc);
  if (reload.length > 0) {
    parts.push('== Reload: memory saved against code picked up\n', boxTable(RELOAD_HEAD, reload.map(reloadCells), width));
  }
  const w = renderWarnings(doc.warnings);
  if (w) parts.push(`\n${w}`);
  return wrapProse(parts.join('\n'), width);
}
