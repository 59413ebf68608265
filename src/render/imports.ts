import { type ImportNode, type ImportProcess, importTotal, importTree } from '../results/imports.js';
import type { ResultsDocument } from '../results/types.js';
import { mib } from './units.js';

/**
 * A process's import tree as `bundle:mem` prints a Gemfile's: each first import with the private
 * memory it added (its own imports included), indented under the import that made it, largest first;
 * imports below `thresholdBytes` are left out (their count is said).
 */
export function renderImportTree(nodes: readonly ImportNode[], thresholdBytes: number, maxDepth = 8): string {
  const lines: string[] = [];
  let hidden = 0;
  const walk = (list: readonly ImportNode[], depth: number) => {
    for (const n of list) {
      if (n.inclusiveBytes < thresholdBytes || depth > maxDepth) {
        hidden++;
        continue;
      }
      const own = n.children.length > 0 ? ` (itself ${mib(n.exclusiveBytes)})` : '';
      lines.push(`${'  '.repeat(depth + 1)}${mib(n.inclusiveBytes).padStart(10)}  ${n.module}${own}`);
      walk(n.children, depth + 1);
    }
  };
  walk(nodes, 0);
  if (hidden > 0) lines.push(`  (${hidden} imports under ${mib(thresholdBytes)} or deeper than ${maxDepth} levels not shown)`);
  return lines.join('\n');
}

/** Every probed process: a heading (the start, or a forked child after the fork) and its tree. */
export function renderImports(processes: readonly ImportProcess[], command: string, thresholdBytes: number): string {
  const out: string[] = [];
  for (const p of processes) {
    const tree = importTree(p.imports);
    const ms = p.imports.filter((r) => r.parent === null).reduce((a, r) => a + r.ms, 0);
    const who = p.forked ? `pid ${p.pid}, forked from ${p.ppid}: its imports after the fork` : `pid ${p.pid}`;
    out.push(
      `== ${command} (${who}): ${mib(importTotal(tree))} of private memory in ${p.imports.length} first imports (${(ms / 1000).toFixed(2)} s); the interpreter before them ${mib(p.startPrivateBytes)}`,
    );
    if (tree.length > 0) out.push(renderImportTree(tree, thresholdBytes));
  }
  return `${out.join('\n')}\n`;
}

/** The lines of `importLines` as a list: a line indented under its variant's (what was applied) nested under it. */
export function importBullets(lines: readonly string[]): string[] {
  return lines.map((l) => (l.startsWith('  ') ? `  - ${l.trimStart()}` : `- ${l}`));
}

/** `run --imports`: one line per variant, what its workers import after the fork and what moving it would save. */
export function importLines(doc: ResultsDocument): string[] {
  const total = (name: string) => doc.summary.variants.find((s) => s.name === name)?.totalPssBytes.median;
  const preloadedVariant = doc.variants.find((v) => v.imports?.preloaded === true);
  const lines: string[] = [];
  for (const v of doc.variants) {
    const im = v.imports;
    if (!im) continue;
    if (im.method === null) {
      lines.push(`${v.name}: not probed: ${im.reason ?? 'its interpreter is not instrumented'}`);
      continue;
    }
    const head = `${v.name}: the master imported ${mib(im.master.totalBytes)} before the fork (${im.master.imports} first imports)`;
    if (im.afterFork.length === 0 || im.afterForkBytesPerWorker < 65536) {
      lines.push(`${head}; the ${im.workers} workers imported nothing of weight after it (under 64 KiB each)`);
      continue;
    }
    const top = im.afterFork
      .slice(0, 3)
      .map((a) => `${a.module} ${mib(a.bytesPerWorker)}`)
      .join(', ');
    const what = im.preloaded === false ? 'preloading the app' : 'importing them before the fork';
    let line = `${head}; each of ${im.workers} workers imported ${mib(im.afterForkBytesPerWorker)} after it (${top}${im.afterFork.length > 3 ? ', …' : ''}): ${what} would save ~${mib(im.predictedSavingBytes)} in total`;
    const mine = total(v.name);
    const theirs = preloadedVariant && preloadedVariant !== v ? total(preloadedVariant.name) : undefined;
    if (im.preloaded === false && mine !== undefined && theirs !== undefined && preloadedVariant)
      line += ` (measured with ${preloadedVariant.name}: ${mib(mine - theirs)})`;
    line += im.giveBack
      ? `; ${mib(im.giveBack.beforeBytes)} less copy-on-write's give-back: each worker of ${im.giveBack.from} copied ${(im.giveBack.fraction * 100).toFixed(0)}% of its master's heap`
      : "; an upper bound: copy-on-write's give-back is measured only on a preloaded variant";
    lines.push(line);
    const a = im.applied;
    if (a) {
      const moved = a.modules.filter((m) => !a.failed.some((f) => f.module === m));
      lines.push(
        `  applied: ${a.variant} imports ${moved.slice(0, 3).join(', ')}${moved.length > 3 ? ', …' : ''} before the fork: ${a.measuredSavingBytes >= 0 ? `measured saving ${mib(a.measuredSavingBytes)}` : `measured: ${mib(-a.measuredSavingBytes)} MORE, not a saving`}, predicted ${mib(a.predictedSavingBytes)}`,
      );
      for (const f of a.failed) lines.push(`  ${f.module} cannot move before the fork: ${f.error}`);
    }
  }
  const probes = doc.variants.filter((v) => v.imports?.method);
  if (probes.length > 0)
    lines.push(
      `(one probed boot per variant after the measured runs, not one of them; the probed imports took ${probes.map((v) => `${((v.imports?.boot.probeMs ?? 0) / 1000).toFixed(2)} s (${v.name})`).join(', ')} of the interpreters' time, summed over their processes)`,
    );
  return lines;
}

/** A tree as nested Markdown list items (nodes of at least `minBytes`, `depth` levels). */
export function importTreeMarkdown(nodes: readonly ImportNode[], minBytes = 1048576, depth = 3, indent = ''): string[] {
  if (depth === 0) return [];
  return nodes
    .filter((n) => n.inclusiveBytes >= minBytes)
    .flatMap((n) => [
      `${indent}- ${mib(n.inclusiveBytes)} \`${n.module}\``,
      ...importTreeMarkdown(n.children, minBytes, depth - 1, `${indent}  `),
    ]);
}

/** The imports section of a Markdown report: the lines, then each probed master's tree. */
export function importsMarkdown(doc: ResultsDocument): string[] {
  const lines = importLines(doc);
  if (lines.length === 0) return [];
  const out = ['## Imports (run --imports)', '', ...importBullets(lines), ''];
  for (const v of doc.variants) {
    const tree = v.imports?.master.tree ?? [];
    if (tree.length === 0) continue;
    out.push(`### ${v.name}: the master's imports before the fork (1 MiB and over)`, '', ...importTreeMarkdown(tree), '');
  }
  return out;
}
