import { median } from './aggregate.js';
import type { ImportsRecord } from './imports.js';
import type { RunRecord, VariantResult } from './types.js';

/** The breakdown group of a process's heap and anonymous mappings (proc/mappings.ts). */
const HEAP_GROUP = 'heap and anonymous';

/**
 * The share of a master's heap and anonymous memory each worker has copied by the final sample, beyond
 * what its own after-fork imports account for (`importedBytes`: the probe's per worker, which count the
 * pages those imports copied), over the master's resident heap. On a preloaded variant this is copy-on-write's give-back (Python's collector and reference counts,
 * Ruby's object ages write to the pages the fork shared). Undefined without a breakdown.
 */
export function copiedFraction(run: RunRecord, importedBytes = 0): number | undefined {
  const heap = run.mappings?.groups.find((g) => g.name === HEAP_GROUP);
  if (!heap || heap.master.rssBytes <= 0 || heap.workerMean.rssBytes <= 0) return undefined;
  // Two bounds on the copies: the master's pages the worker no longer shares (which count the pages its own
  // imports copied), and its private heap less those imports (which counts what it allocated itself).
  const unshared = heap.master.rssBytes - (heap.workerMean.rssBytes - heap.workerMean.ussBytes);
  const copied = Math.min(unshared, heap.workerMean.ussBytes - importedBytes);
  return Math.min(1, Math.max(0, copied / heap.master.rssBytes));
}

/** The median copied fraction over a variant's runs; undefined when no run has a breakdown. */
export function variantCopiedFraction(variant: VariantResult): number | undefined {
  const imported = variant.imports?.afterForkBytesPerWorker ?? 0;
  const all = variant.runs.map((r) => copiedFraction(r, imported)).filter((f): f is number => f !== undefined);
  return all.length > 0 ? median(all) : undefined;
}

/**
 * What moving a worker's after-fork imports (`perWorker` each, `workers` of them) before the fork saves
 * in total PSS when each worker then copies `fraction` of what the master shares: the workers' copies
 * become one in the master, less what each copies back, `(workers × (1 − fraction) − 1) × perWorker`.
 */
export function savingAfterGiveBack(perWorker: number, workers: number, fraction: number): number {
  return Math.max(0, (workers * (1 - fraction) - 1) * perWorker);
}

/**
 * Takes copy-on-write's give-back off each probed variant's predicted saving, once the measured runs are in.
 * A preloaded variant gives its own measured fraction (what its workers copied of its master); a variant
 * that does not preload has no such state to measure, so it takes the fraction of the first preloaded
 * variant of the comparison, said as such; with none, the prediction stays an upper bound (`giveBack` absent).
 */
export function applyGiveBack(variants: readonly VariantResult[]): void {
  const preloaded = variants.find((v) => v.imports?.preloaded === true && variantCopiedFraction(v) !== undefined);
  for (const v of variants) {
    const im = v.imports;
    if (!im || im.method === null || im.workers === 0) continue;
    const from = im.preloaded === true ? v : im.preloaded === false ? preloaded : undefined;
    const fraction = from ? variantCopiedFraction(from) : undefined;
    if (!from || fraction === undefined) continue;
    Object.assign(im, withGiveBack(im, fraction, from.name));
  }
}

/** The record with the give-back taken off its predictions. */
function withGiveBack(im: ImportsRecord, fraction: number, from: string): Partial<ImportsRecord> {
  const saving = savingAfterGiveBack(im.afterForkBytesPerWorker, im.workers, fraction);
  return {
    giveBack: { fraction, from, beforeBytes: im.predictedSavingBytes },
    predictedSavingBytes: saving,
    ...(im.predictedPreloadSavingBytes !== undefined ? { predictedPreloadSavingBytes: saving } : {}),
  };
}
