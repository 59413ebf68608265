import { readlinkSync } from 'node:fs';
import { listPids } from './tree.js';

/**
 * Processes outside a tree that run the same executable as its root: they map the same files and
 * so share file pages with it, which lowers its PSS (another Python process lowers a Python server's).
 */
export function foreignSharers(rootPid: number, tree: ReadonlySet<number>): { exe: string; pids: number[] } | undefined {
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
  return pids.length > 0 ? { exe, pids } : undefined;
}

/** The executable a process runs (/proc/<pid>/exe); undefined when gone or not ours to read. */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
