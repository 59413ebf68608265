import { mdTable, mdText, termText } from '../render/markup.js';
import { boxTable, wrapProse } from '../render/table.js';
import { mib, signedMib } from '../render/units.js';
import type { GateRow } from './gate.js';

const scopeLabel = { worker: 'per worker', master: 'master', total: 'total', peak: 'peak total under load' } as const;
const mark = { regression: 'REGRESSION', improvement: 'improvement', unchanged: 'ok' } as const;

function cells(r: GateRow, text: (s: string) => string = termText): string[] {
  return [
    text(r.variant),
    `${r.metric.toUpperCase()} ${scopeLabel[r.scope]}`,
    mib(r.baselineBytes),
    mib(r.currentBytes),
    `${signedMib(r.changeBytes)} (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)}%)`,
    Number.isFinite(r.pValue) ? r.pValue.toPrecision(2) : '-',
    mark[r.verdict],
    text(r.reason),
  ];
}

const HEAD = ['Variant', 'Metric', 'Baseline', 'Current', 'Change', 'p', 'Verdict', 'Why'];

export function renderGateTable(rows: readonly GateRow[], width?: number): string {
  return wrapProse(
    `${boxTable(
      HEAD,
      rows.map((r) => cells(r)),
      width,
    )}${gateLine(rows)}\n`,
    width,
  );
}

export function gateLine(rows: readonly GateRow[], text: (s: string) => string = termText): string {
  const reg = rows.filter((r) => r.verdict === 'regression');
  const imp = rows.filter((r) => r.verdict === 'improvement');
  if (reg.length > 0) {
    return `memcompare check: FAIL — ${reg.map((r) => `${text(r.variant)} ${r.metric.toUpperCase()} ${scopeLabel[r.scope]} ${signedMib(r.changeBytes)} (+${r.changePercent.toFixed(1)}%)`).join('; ')}`;
  }
  return `memcompare check: pass — no regression${imp.length ? `; ${imp.length} improvement${imp.length === 1 ? '' : 's'}` : ''}`;
}

/** The Markdown summary for a pull request or a CI job page. */
export function renderGateMarkdown(rows: readonly GateRow[], title: string): string {
  return [
    `### ${mdText(title)}`,
    '',
    `**${gateLine(rows, mdText).replace('memcompare check: ', '')}**`,
    '',
    mdTable(
      HEAD,
      rows.map((r) => cells(r, mdText)),
      HEAD.map((_, i) => (i >= 2 && i <= 5 ? 'r' : 'l')),
    ),
    '',
  ].join('\n');
}
