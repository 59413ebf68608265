import { readlinkSync } from 'node:fs';
import { readText } from './read-text.js';

/** A file mapping from /proc/<pid>/maps. */
export interface FileRange {
  start: number;
  end: number;
  /** "dev inode": the same file in two processes. */
  key: string;
  path: string;
}

// "start-end perms offset dev inode path": only file mappings (inode ≠ 0).
const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ (\S+) (\d+) +(\S.*)$/gm;

/** The file-backed mappings of a maps text. */
export function fileRanges(mapsText: string): FileRange[] {
  const out: FileRange[] = [];
  for (const m of mapsText.matchAll(MAPS_LINE)) {
    if (m[4] === '0') continue;
    out.push({
      start: Number.parseInt(m[1] as string, 16),
      end: Number.parseInt(m[2] as string, 16),
      key: `${m[3]} ${m[4]}`,
      path: (m[5] as string).replace(/ \(deleted\)$/, ''),
    });
  }
  return out;
}

/** The kB of a process's executable mappings other than its program's own text (VmLib in /proc/<pid>/status). */
export function libKb(pid: number): number | undefined {
  const m = /^VmLib:\s+(\d+)/m.exec(readText(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * A forked worker's ranges of the observers' libraries, taken from its parent's instead of read from its own maps
 * (a maps read is ~0.4 ms for a Python worker with numpy, most of what the observer's share costs a process in a
 * one-shot snapshot). A fork keeps every mapping at its address; the child is taken to still have them when its
 * VmLib (the size of its executable library mappings) is the parent's — a library loaded or dropped since the fork
 * changes it — and when the parent's first and last ranges are there in /proc/<pid>/map_files under the same file
 * (a child that exec'd the same program has them elsewhere: address randomization). Otherwise undefined: read.
 */
export function inheritedRanges(
  pid: number,
  parent: number,
  parentRanges: readonly FileRange[],
  parentLibKb: number | undefined = libKb(parent),
): FileRange[] | undefined {
  const first = parentRanges[0];
  const last = parentRanges[parentRanges.length - 1];
  if (!first || !last) return undefined;
  const lib = libKb(pid);
  if (lib === undefined || lib !== parentLibKb) return undefined;
  for (const r of [first, last]) {
    try {
      if (readlinkSync(`/proc/${pid}/map_files/${r.start.toString(16)}-${r.end.toString(16)}`) !== r.path) return undefined;
    } catch {
      return undefined;
    }
  }
  return [...parentRanges];
}
