import { median } from '../results/aggregate.js';
import { predictTotalPss } from '../results/sweep.js';
import type { ResultsDocument, SweepVariant } from '../results/types.js';
import { workerSetting } from '../servers/registry.js';
import { boxTable, wrapProse } from './table.js';
import { mib } from './units.js';
import { warningText } from './warning.js';

/** One variant's points against its fit: measured, fitted, residual; then the line and the budget. */
export function renderSweepVariant(v: SweepVariant, width?: number, family?: string): string {
  const rows = v.points.map((p) => [
    String(p.workers),
    mib(median(p.totalPssBytes)),
    mib(predictTotalPss(v, p.workers)),
    `${p.residualPercent >= 0 ? '+' : ''}${p.residualPercent.toFixed(1)}%`,
    mib(median(p.totalUssBytes)),
    mib(median(p.workerPssBytes)),
    mib(median(p.workerRssBytes)),
  ]);
  const lines = [
    `== ${v.name}: total PSS = ${mib(v.fixedBytes)} + ${mib(v.perWorkerBytes)} × workers (R² ${v.r2.toFixed(4)}); total USS = ${mib(v.uss.fixedBytes)} + ${mib(v.uss.perWorkerBytes)} × workers (R² ${v.uss.r2.toFixed(4)})`,
    boxTable(['Workers', 'Total PSS', 'Fitted', 'Residual', 'Total USS', 'PSS per worker', 'RSS per worker'], rows, width).trimEnd(),
  ];
  if (v.budgetBytes !== undefined) {
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '–');
    lines.push(
      `Budget ${mib(v.budgetBytes)}: set ${v.maxWorkers !== undefined ? workerSetting(family, v.maxWorkers) : '– (not even one worker fits)'} (the RSS rule would set ${workerSetting(family, v.maxWorkersByRssRule ?? 0)}). ${v.maxWorkers ?? '–'} workers fit by the fit of total PSS; the RSS rule (budget ÷ RSS of one worker) says ${v.maxWorkersByRssRule}, the PSS rule (budget ÷ PSS of one worker) says ${v.maxWorkersByPssRule}: the fit allows ${ratio(v.maxWorkers, v.maxWorkersByRssRule)} the RSS rule and ${ratio(v.maxWorkers, v.maxWorkersByPssRule)} the PSS rule.${v.transientPeak ? ` Each worker's room holds ${v.transientPeak.path}'s transient peak (+${mib(v.transientPeak.bytes)} while served) on top of its share: every worker may be at it at once.` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** What `memcompare sweep` prints at the end. */
export function renderSweep(doc: ResultsDocument, width?: number): string {
  if (!doc.sweep) return '';
  // Each variant's setting in its own family's words (one server against another).
  const serverOf = (name: string) => doc.variants.find((x) => x.point?.variant === name)?.server ?? doc.scenario.server;
  const parts = doc.sweep.variants.map((v) => renderSweepVariant(v, width, serverOf(v.name)));
  const warnings = doc.warnings.filter(
    (w) => w.kind === 'not-linear' || w.kind === 'noisy' || w.kind === 'idle-worker' || w.kind === 'not-settled',
  );
  if (warnings.length > 0) parts.push(warnings.map(warningText).join('\n'));
  return wrapProse(`${parts.join('\n')}\n`, width);
}
