import type { Snapshot } from '../memory.js';
import { takeSnapshot } from '../proc/snapshot.js';
import { type ProcessRecord, toProcessRecord } from '../results/types.js';
import type { ServerFamily } from '../servers/family.js';

export interface TreeSample {
  snapshot: Snapshot;
  processes: ProcessRecord[];
  workers: number;
}

/** Measures the server's whole tree through the core, each process with its role. */
export function sampleTree(server: { pid: number; knownPids: Set<number> }, family: ServerFamily): TreeSample {
  const snapshot = takeSnapshot({ pids: [server.pid], tree: true });
  const processes = snapshot.processes.map((p) => {
    server.knownPids.add(p.pid);
    return toProcessRecord(p, family.roleOf(p.pid, p.ppid, server.pid));
  });
  return { snapshot, processes, workers: processes.filter((p) => p.role === 'worker').length };
}
