import type { ReforkRecord, ReplacementRecord, Timeline } from './types.js';

/**
 * A refork as the soak saw it (a fork_worker server: worker 0 forks the others anew from its warm state): the
 * tree's total PSS at the last sample before the first old worker left, at the first sample where every new
 * worker exists (they share everything with worker 0 until they serve: a reading then overstates the saving),
 * and at the soak's last sample (the new generation warm again under the load).
 */
export function reforkGenerations(t: Timeline, replacements: readonly ReplacementRecord[]): ReforkRecord | undefined {
  const reforked = replacements.filter((r) => r.cause === 'refork');
  if (reforked.length === 0) return undefined;
  const total = (i: number) => t.processes.reduce((a, p) => a + (p.pssBytes[i] ?? 0), 0);
  const first = t.tMs.indexOf(Math.min(...reforked.map((r) => r.tMs)));
  const newPids = new Set(reforked.map((r) => r.newPid).filter((p): p is number => p !== null));
  const born = t.tMs.findIndex((_, i) => i >= first && t.processes.every((p) => !newPids.has(p.pid) || p.pssBytes[i] !== null));
  const last = t.tMs.length - 1;
  if (first < 1 || born < 0) return undefined;
  return {
    tMs: t.tMs[first] as number,
    workers: reforked.length,
    beforeBytes: total(first - 1),
    afterBytes: total(born),
    endBytes: total(last),
  };
}
