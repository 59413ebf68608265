import type { Snapshot } from '../memory.js';
import { sumTotals, takeSnapshot } from '../proc/snapshot.js';
import { type ProcessRecord, toProcessRecord } from '../results/types.js';
import type { ServerFamily } from '../servers/family.js';

export interface TreeSample {
  snapshot: Snapshot;
  processes: ProcessRecord[];
  workers: number;
}

/**
 * Measures the server's whole tree through the core, each process with its role. Under memcompare's subreaper
 * (`wrapped`: run/subreaper.ts) the launched process is memcompare's, not the server's, and a family may say
 * which processes of the tree are its server's (`isServerProcess`: not a launcher left in the foreground): the
 * others are left out.
 */
export function sampleTree(server: { pid: number; knownPids: Set<number>; wrapped?: boolean }, family: ServerFamily): TreeSample {
  const whole = takeSnapshot({ pids: [server.pid], tree: true });
  for (const p of whole.processes) server.knownPids.add(p.pid);
  const leftOut = (pid: number) => (server.wrapped && pid === server.pid) || family.isServerProcess?.(pid) === false;
  const kept = whole.processes.some((p) => leftOut(p.pid)) ? whole.processes.filter((p) => !leftOut(p.pid)) : whole.processes;
  const snapshot = kept === whole.processes ? whole : { ...whole, processes: kept, totals: sumTotals(kept) };
  const processes = snapshot.processes.map((p) => toProcessRecord(p, family.roleOf(p.pid, p.ppid, server.pid)));
  return { snapshot, processes, workers: processes.filter((p) => p.role === 'worker').length };
}
