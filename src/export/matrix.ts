import { mapStrings, mdTable, mdText } from '../render/markup.js';
import { mib } from '../render/units.js';
import type { ResultsDocument } from '../results/types.js';

/** One results document of a matrix (a Python version, a server version, a host), by the file it came from. */
export interface MatrixEntry {
  file: string;
  doc: ResultsDocument;
}

function software(doc: ResultsDocument): string {
  const sw = doc.host.software;
  if (!sw) return '';
  const packages = Object.entries(sw.packages)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ');
  return [sw.interpreter, packages].filter((s) => s !== '').join('; ');
}

/**
 * Several results documents side by side (a CI matrix: Python versions, server versions, hosts):
 * each document's host and software, then every variant's PSS per worker, USS per worker and total
 * PSS, with the ratio to the document's first variant.
 */
export function renderMatrixMarkdown(entries: readonly MatrixEntry[]): string {
  // Results files come from other machines: every string is escaped for Markdown.
  const safe = entries.map(({ file, doc }) => ({ file: mdText(file), doc: mapStrings(doc, mdText) }));
  const hosts = safe.map(({ file, doc }) => {
    const h = doc.host;
    return [file, doc.scenario.name, h.os, h.kernel, String(h.cores), h.server, software(doc)];
  });
  const memory = safe.flatMap(({ file, doc }) => {
    const first = doc.summary.variants[0];
    return doc.summary.variants.map((v) => {
      const ratio = first && first.totalPssBytes.median > 0 ? `${(v.totalPssBytes.median / first.totalPssBytes.median).toFixed(2)}x` : '';
      return [file, v.name, String(v.runs), mib(v.workerPssBytes.median), mib(v.workerUssBytes.median), mib(v.totalPssBytes.median), ratio];
    });
  });
  return `${[
    `# memcompare: ${entries.length} results side by side`,
    '',
    '## Hosts and software',
    '',
    mdTable(['Document', 'Scenario', 'OS', 'Kernel', 'Cores', 'Server', 'Interpreter and packages'], hosts, Array(7).fill('l')),
    '',
    '## Memory (median over runs)',
    '',
    mdTable(['Document', 'Variant', 'Runs', 'PSS per worker', 'USS per worker', 'PSS total', 'Total vs first variant'], memory, [
      'l',
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
  ].join('\n')}\n`;
}

/** The same as JSON: each document's file, scenario, host and summary. */
export function renderMatrixJson(entries: readonly MatrixEntry[]): string {
  const documents = entries.map(({ file, doc }) => ({ file, scenario: doc.scenario.name, host: doc.host, summary: doc.summary }));
  return `${JSON.stringify({ documents }, null, 2)}\n`;
}
