import { readdirSync, readFileSync } from 'node:fs';
import { readStat } from './stat.js';

/** Every numeric entry of /proc. */
export function listPids(procRoot = '/proc'): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/**
 * Direct children of a process, from /proc/<pid>/task/<tid>/children (every thread may have forked).
 * Returns undefined when the kernel lacks CONFIG_PROC_CHILDREN, [] when the process is gone.
 */
export function childrenOf(pid: number, procRoot = '/proc'): number[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`${procRoot}/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${pid}/task/${tid}/children`, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT' && tid === String(pid)) {
        try {
          readdirSync(`${procRoot}/${pid}/task/${tid}`);
          return undefined; // the thread exists but has no children file: no CONFIG_PROC_CHILDREN
        } catch {
          return [];
        }
      }
      continue;
    }
    for (const part of text.split(' ')) if (part.trim() !== '') out.push(Number(part));
  }
  return out;
}

/** Parent of every process, from /proc/<pid>/stat (the fallback without children files). */
function parentMap(procRoot: string): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const pid of listPids(procRoot)) {
    const ppid = readStat(pid, procRoot)?.ppid; // undefined: exited meanwhile
    if (ppid === undefined) continue;
    const list = kids.get(ppid) ?? [];
    list.push(pid);
    kids.set(ppid, list);
  }
  return kids;
}

/** The given pids and all their descendants, parents before children, without duplicates. */
export function withDescendants(roots: number[], procRoot = '/proc'): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  const queue = [...roots];
  let fallback: Map<number, number[]> | undefined;
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    order.push(pid);
    let kids = fallback ? (fallback.get(pid) ?? []) : childrenOf(pid, procRoot);
    if (kids === undefined) {
      fallback = parentMap(procRoot);
      kids = fallback.get(pid) ?? [];
    }
    queue.push(...kids);
  }
  return order;
}
