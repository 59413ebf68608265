import { mdTable, mdText, termText } from '../render/markup.js';
import { boxTable, wrapProse } from '../render/table.js';
import { size } from '../render/units.js';
import { CALIBRATE_RUNS, type Calibration } from './calibrate.js';
import { amountText, type GateRow } from './gate.js';

const scopeLabel = { worker: 'per worker', master: 'master', total: 'total', peak: 'peak total under load' } as const;
const mark = { regression: 'REGRESSION', improvement: 'improvement', pass: 'pass', inconclusive: 'INCONCLUSIVE' } as const;

/** What a row measures: "PSS per worker", or the throughput phase's requests/s. */
const label = (r: GateRow) =>
  r.metric === 'throughput' ? 'Requests/s (throughput phase)' : `${r.metric.toUpperCase()} ${scopeLabel[r.scope]}`;

function cells(r: GateRow, text: (s: string) => string = termText): string[] {
  return [
    text(r.variant),
    label(r),
    amountText(r, r.baselineBytes),
    `${amountText(r, r.changeBytes, true)} (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(2)}%)`,
    `${amountText(r, r.lowBytes, true)} … ${amountText(r, r.highBytes, true)}`,
    r.unit === 'bytes' ? size(r.thresholdBytes) : `-${amountText(r, r.thresholdBytes)}`,
    amountText(r, r.detectableBytes),
    mark[r.verdict],
  ];
}

const HEAD = ['Variant', 'Metric', 'Base', 'Change', '90% interval', 'Threshold', 'Detectable', 'Verdict'];

/** Why each row that did not pass came out as it did, one line each. */
function reasons(rows: readonly GateRow[], text: (s: string) => string): string[] {
  return rows
    .filter((r) => r.verdict === 'regression' || r.verdict === 'inconclusive')
    .map((r) => `${text(r.variant)} ${label(r)}: ${text(r.reason)}`);
}

/** How the rows were compared and the smallest per-worker change they could see. */
export function methodLine(rows: readonly GateRow[]): string {
  if (rows.length === 0) return 'no figure to compare';
  const methods = [...new Set(rows.map((r) => r.method))];
  const how = methods
    .map((m) =>
      m === 'welch'
        ? "unpaired (Welch's t; separate runs)"
        : m === 'paired-t'
          ? 'paired t (run i of head against run i of base)'
          : 'paired, exact signed-rank',
    )
    .join(' / ');
  const pairs = Math.min(...rows.map((r) => r.pairs));
  const perWorker = rows.filter((r) => r.scope === 'worker' && Number.isFinite(r.detectableBytes));
  const seen =
    perWorker.length > 0
      ? `; this gate would have caught a change of ${size(Math.max(...perWorker.map((r) => r.detectableBytes)))} per worker or more`
      : '';
  return `${how}, ${pairs} run${pairs === 1 ? '' : 's'} per side, Holm's correction over ${rows.length} rows${seen}`;
}

export function renderGateTable(rows: readonly GateRow[], width?: number): string {
  const why = reasons(rows, termText);
  return wrapProse(
    `${boxTable(
      HEAD,
      rows.map((r) => cells(r)),
      width,
    )}${why.map((l) => `${l}\n`).join('')}${methodLine(rows)}\n${gateLine(rows)}\n`,
    width,
  );
}

export function gateLine(rows: readonly GateRow[], text: (s: string) => string = termText): string {
  const name = (r: GateRow) => `${text(r.variant)} ${label(r)}`;
  const reg = rows.filter((r) => r.verdict === 'regression');
  const open = rows.filter((r) => r.verdict === 'inconclusive');
  const imp = rows.filter((r) => r.verdict === 'improvement');
  if (reg.length > 0) {
    return `memcompare check: FAIL — ${reg.map((r) => `${name(r)} ${amountText(r, r.changeBytes, true)} (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)}%)`).join('; ')}`;
  }
  if (open.length > 0) {
    const need = open.map((r) => r.pairsToDecide);
    const most = need.some((n) => n === null || n === undefined) ? undefined : Math.max(...(need as number[]));
    return `memcompare check: inconclusive — ${open.map(name).join('; ')}: ${most === undefined ? 'more runs than 200 per side would be needed' : `about ${most} runs per side would decide (run --until-decided ${most})`}`;
  }
  return `memcompare check: pass — no regression${imp.length ? `; ${imp.length} improvement${imp.length === 1 ? '' : 's'}` : ''}`;
}

/** The Markdown summary for a pull request or a CI job page. */
export function renderGateMarkdown(rows: readonly GateRow[], title: string): string {
  const why = reasons(rows, mdText);
  return [
    `### ${mdText(title)}`,
    '',
    `**${gateLine(rows, mdText).replace('memcompare check: ', '')}**`,
    '',
    mdText(methodLine(rows)),
    '',
    mdTable(
      HEAD,
      rows.map((r) => cells(r, mdText)),
      HEAD.map((_, i) => (i >= 2 && i <= 6 ? 'r' : 'l')),
    ),
    '',
    ...why.map((l) => `- ${l}`),
    ...(why.length ? [''] : []),
  ].join('\n');
}

/** `memcompare calibrate`'s answer: the false-alarm rate of these settings, each row's noise, what the gate sees. */
export function renderCalibration(c: Calibration, scenario: string, width?: number): string {
  const n = c.comparisons.length;
  const o = c.options;
  const settings = `--limit ${o.limitPercent} --floor ${size(o.floorBytes).replace(' ', '')} --alpha ${o.alpha}`;
  const pct = (k: number) => (n === 0 ? '' : ` (${((k * 100) / n).toFixed(0)}%)`);
  const head = ['Variant', 'Metric', 'Median', 'Noise (sd)', 'Threshold', ...CALIBRATE_RUNS.map((r) => `Detectable at ${r}`)];
  const rows = c.noise.map((r) => [
    termText(r.variant),
    `${r.metric.toUpperCase()} ${scopeLabel[r.scope]}`,
    size(r.medianBytes),
    `${size(r.noiseBytes)} (${r.noisePercent.toFixed(2)}%)`,
    size(r.thresholdBytes),
    ...r.detectable.map((d) => size(d.bytes)),
  ]);
  const perWorker = c.noise.filter((r) => r.scope === 'worker');
  const seen = CALIBRATE_RUNS.map((runs) => {
    const worst = Math.max(...perWorker.map((r) => r.detectable.find((d) => d.runs === runs)?.bytes ?? Number.POSITIVE_INFINITY));
    return `${size(worst)} at ${runs} runs`;
  });
  return wrapProse(
    [
      `Calibration of ${termText(scenario)}: ${n} A/A comparison${n === 1 ? '' : 's'} of ${c.runsPerSide} runs per side (the same code as base and head, interleaved on this runner), judged with ${settings}`,
      `  false alarms (a regression on unchanged code): ${c.falseAlarms} of ${n}${pct(c.falseAlarms)}`,
      `  undecided (an interval straddling the threshold): ${c.undecided} of ${n}${pct(c.undecided)}`,
      '',
      boxTable(head, rows, width).trimEnd(),
      `Noise: the standard deviation of head run i − base run i over ${Math.min(...c.noise.map((r) => r.pairs))} pairs. Detectable: the smallest change the gate calls a regression 80% of the time at that many runs per side (Holm's strictest level over ${c.noise.length} rows).`,
      ...(perWorker.length > 0 ? [`The gate would catch a change per worker of ${seen.join(', ')}.`] : []),
      '',
    ].join('\n'),
    width,
  );
}
