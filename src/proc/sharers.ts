import { readlinkSync } from 'node:fs';
import { observerShares } from './observer.js';
import { listPids } from './tree.js';

/** Other processes running the server's executable, and the PSS they take from the tree by mapping its pages. */
export interface ForeignSharers {
  exe: string;
  pids: number[];
  /** PSS the tree would have more without them, and how it was found (proc/observer.ts). */
  takes?: { pssBytes: number; method: 'pagemap' | 'estimate' };
}

/**
 * Processes outside a tree that run the same executable as its root: they map the same files and
 * so share file pages with it, which lowers its PSS (another Python process lowers a Python server's).
 */
export function foreignSharers(rootPid: number, tree: ReadonlySet<number>): ForeignSharers | undefined {
  const exe = exeOf(rootPid);
  if (exe === undefined) return undefined;
  const pids: number[] = [];
  for (const pid of listPids()) {
    if (tree.has(pid) || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === exe) pids.push(pid);
    } catch {
      // not ours to read, or gone
    }
  }
  if (pids.length === 0) return undefined;
  const shares = observerShares([...tree], { observers: pids });
  let pss = 0;
  for (const s of shares.byPid.values()) pss += s.pssBytes;
  return { exe, pids, takes: { pssBytes: pss, method: shares.method } };
}

/** The executable of a process (/proc/<pid>/exe); undefined when gone or not ours to read. */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
