import { nowMs } from '../clock.js';
import { groupOf, type MappingRow, readMappings, sumMappings } from '../proc/mappings.js';
import type { MappingAmounts, MappingBreakdown, MappingShare, ProcessRecord } from '../results/types.js';

const TOP = 25;
const zero = (): MappingAmounts => ({ pssBytes: 0, ussBytes: 0, rssBytes: 0, swapBytes: 0 });
const add = (a: MappingAmounts, b: MappingAmounts) => {
  a.pssBytes += b.pssBytes;
  a.ussBytes += b.ussBytes;
  a.rssBytes += b.rssBytes;
  a.swapBytes += b.swapBytes;
};
const scaled = (a: MappingAmounts, k: number): MappingAmounts => ({
  pssBytes: a.pssBytes * k,
  ussBytes: a.ussBytes * k,
  rssBytes: a.rssBytes * k,
  swapBytes: a.swapBytes * k,
});
const amounts = (r: MappingRow): MappingAmounts => ({
  pssBytes: r.pssBytes,
  ussBytes: r.ussBytes,
  rssBytes: r.rssBytes,
  swapBytes: r.swapBytes,
});

/**
 * Where the memory of a measured tree is: full smaps of the master and of every worker, per group
 * and for the top mappings. Read once, at the final sample only (never in the settle or soak loops:
 * each read walks the process's page tables); the time it took is recorded.
 */
export function readBreakdown(processes: readonly ProcessRecord[]): MappingBreakdown {
  const t0 = nowMs();
  const masters = processes.filter((p) => p.role === 'master').map((p) => readMappings(p.pid));
  const workers = processes.filter((p) => p.role === 'worker').map((p) => readMappings(p.pid));
  const readMs = nowMs() - t0;
  const present = <T>(x: T | undefined): x is T => x !== undefined;
  const masterRows = sumMappings(masters.filter(present));
  const workerMaps = workers.filter(present);
  const workerRows = sumMappings(workerMaps);
  const n = Math.max(1, workerMaps.length);
  const byName = new Map<string, MappingShare>();
  const groups = new Map<string, MappingShare>();
  const share = (map: Map<string, MappingShare>, name: string) => {
    let s = map.get(name);
    if (!s) {
      s = { name, master: zero(), workersSum: zero(), workerMean: zero() };
      map.set(name, s);
    }
    return s;
  };
  for (const r of masterRows) {
    add(share(byName, r.name).master, amounts(r));
    add(share(groups, groupOf(r.name).group).master, amounts(r));
  }
  for (const r of workerRows) {
    add(share(byName, r.name).workersSum, amounts(r));
    add(share(groups, groupOf(r.name).group).workersSum, amounts(r));
  }
  for (const s of [...byName.values(), ...groups.values()]) s.workerMean = scaled(s.workersSum, 1 / n);
  const weight = (s: MappingShare) => s.master.pssBytes + s.workersSum.pssBytes;
  return {
    readMs,
    groups: [...groups.values()].sort((a, b) => weight(b) - weight(a)),
    top: [...byName.values()].sort((a, b) => weight(b) - weight(a)).slice(0, TOP),
  };
}
