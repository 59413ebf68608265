import { medianRunIndex } from '../results/aggregate.js';
import type { ContainerRecord, ResultsDocument } from '../results/types.js';
import { mib } from './units.js';

const opt = (b: number | null, what: string) => (b === null ? '' : `, ${what} ${mib(b)}`);

/** One line on a run's memory cgroup beside its summed PSS: the limit, the headroom at the peak, reclaimable cache, OOM kills, and whether others share it. */
export function containerLine(name: string, c: ContainerRecord, totalPssBytes: number): string {
  const where = `cgroup v${c.version} ${c.path}`;
  const usage = `usage ${mib(c.currentBytes)}${opt(c.peakBytes, 'peak')}, ${c.limitBytes === null ? 'no limit' : `limit ${mib(c.limitBytes)}${opt(c.headroomBytes, 'headroom at the peak')}`}${opt(c.fileBytes, 'page cache')}${opt(c.reclaimableBytes, 'reclaimable')}${c.oomKills ? `, ${c.oomKills} OOM kills` : ''}`;
  if (!c.exclusive) {
    return `${name}: ${where} (${usage}) is shared with ${c.otherProcesses} processes outside the server's tree: nothing in it is attributed to the server (summed PSS ${mib(totalPssBytes)})`;
  }
  return `${name}: ${where}: ${usage}; summed PSS ${mib(totalPssBytes)} is ${c.currentBytes > 0 ? ((totalPssBytes * 100) / c.currentBytes).toFixed(0) : '–'}% of the cgroup's usage`;
}

/** The container line of each variant's median run, where the server ran in a memory cgroup. */
export function containerLines(doc: ResultsDocument): string[] {
  return doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return run?.container ? [containerLine(v.name, run.container, run.totals.pssBytes)] : [];
  });
}
