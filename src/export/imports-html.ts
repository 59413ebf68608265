import { importLines } from '../render/imports.js';
import { mib } from '../render/units.js';
import type { ImportNode } from '../results/imports.js';
import type { ResultsDocument } from '../results/types.js';

/** A tree as nested <details>: each import folds its own imports away (nodes of 256 KiB and over). */
function treeHtml(nodes: readonly ImportNode[], htmlText: (s: string) => string, minBytes = 262144): string {
  return nodes
    .filter((n) => n.inclusiveBytes >= minBytes)
    .map((n) => {
      const label = `${mib(n.inclusiveBytes)} <code>${htmlText(n.module)}</code>`;
      const below = treeHtml(n.children, htmlText, minBytes);
      return below === '' ? `<div class="import">${label}</div>` : `<details class="import"><summary>${label}</summary>${below}</details>`;
    })
    .join('');
}

/** The imports section of the HTML report: the lines, then each probed master's tree, foldable. */
export function importsSection(doc: ResultsDocument, htmlText: (s: string) => string): string {
  const lines = importLines(doc);
  if (lines.length === 0) return '';
  const trees = doc.variants
    .filter((v) => (v.imports?.master.tree.length ?? 0) > 0)
    .map((v) => `<h3>${htmlText(v.name)}: the master's imports before the fork</h3>${treeHtml(v.imports?.master.tree ?? [], htmlText)}`)
    .join('');
  return `<section id="imports"><h2>Imports (run --imports)</h2><ul>${lines.map((l) => `<li>${htmlText(l)}</li>`).join('')}</ul>${trees}</section>`;
}
