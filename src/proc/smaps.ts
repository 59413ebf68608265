import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { MemoryAmounts } from '../memory.js';

/**
 * Parsers for /proc/<pid>/smaps_rollup and /proc/<pid>/smaps text.
 * Fields are taken by key name, never by position: newer kernels add fields in the middle.
 */

/** Amount fields ("Key:   123 kB"), converted to bytes. */
export type AmountFields = Record<string, number>;

const AMOUNT_LINE = /^([A-Za-z_][A-Za-z0-9_]*):\s+(\d+) kB$/;
// The same line found in the whole text at once: `snapshot` runs in a fresh process, where each
// split line and trimmed copy is work for an interpreter that has not optimised anything yet.
const AMOUNT_LINES = /^([A-Za-z_][A-Za-z0-9_]*):[ \t]+(\d+) kB[ \t]*$/gm;

/** Parses smaps_rollup text into bytes per field. Lines that are not "Key: N kB" are ignored. */
export function parseRollup(text: string): AmountFields {
  const fields: AmountFields = {};
  for (const m of text.matchAll(AMOUNT_LINES)) fields[m[1] as string] = Number(m[2]) * 1024;
  return fields;
}

/** One mapping of full smaps text: its name (the header's last column; empty for anonymous memory) and its amounts. */
export interface SmapsMapping {
  name: string;
  fields: AmountFields;
}

// A mapping header: "start-end perms offset dev inode [name]", the name captured.
const MAPPING_HEADER = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/;

/** The one parser of full smaps text: every mapping with its "Key: N kB" fields in bytes. */
export function parseSmaps(text: string): SmapsMapping[] {
  const out: SmapsMapping[] = [];
  let cur: SmapsMapping | undefined;
  for (const line of text.split('\n')) {
    const h = MAPPING_HEADER.exec(line);
    if (h) {
      cur = { name: h[1] ?? '', fields: {} };
      out.push(cur);
      continue;
    }
    const m = AMOUNT_LINE.exec(line.trimEnd());
    if (m && cur) cur.fields[m[1] as string] = (cur.fields[m[1] as string] ?? 0) + Number(m[2]) * 1024;
  }
  return out;
}

export interface SmapsSum {
  fields: AmountFields;
  /** Number of mappings seen. */
  mappings: number;
}

/**
 * Sums full smaps text per field, the way smem does (each mapping's value is already truncated
 * to whole kB by the kernel, so the PSS sum is up to ~1 kB per mapping below the rollup's).
 */
export function sumSmaps(text: string): SmapsSum {
  const fields: AmountFields = {};
  const mappings = parseSmaps(text);
  for (const m of mappings) for (const [key, bytes] of Object.entries(m.fields)) fields[key] = (fields[key] ?? 0) + bytes;
  return { fields, mappings: mappings.length };
}

/** The amounts memcompare reports, from the fields with smem's formulas. */
export function deriveAmounts(f: AmountFields): MemoryAmounts {
  const opt = (k: string): number | null => (k in f ? (f[k] as number) : null);
  return {
    // smem: USS = Private_Clean + Private_Dirty.
    ussBytes: (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0),
    pssBytes: f.Pss ?? 0,
    rssBytes: f.Rss ?? 0,
    swapBytes: f.Swap ?? 0,
    swapPssBytes: opt('SwapPss'),
    pssAnonBytes: opt('Pss_Anon'),
    pssFileBytes: opt('Pss_File'),
    pssShmemBytes: opt('Pss_Shmem'),
  };
}

export interface StatusInfo {
  name: string;
  state: string;
  ppid: number;
  /** Effective uid (second Uid column). */
  uid: number;
  /** VmSize in bytes; 0 for kernel threads and zombies. */
  vssBytes: number;
}

/** The trimmed value of one "Key:\tvalue" line of /proc/<pid>/status; undefined when absent. */
function statusValue(text: string, key: string): string | undefined {
  // indexOf over the whole text rather than a split into ~57 lines: a fresh `snapshot` process reads
  // one status per process, and only five of its keys.
  const head = `${key}:`;
  const at = text.startsWith(head) ? 0 : text.indexOf(`\n${head}`) + 1;
  if (at === 0 && !text.startsWith(head)) return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + head.length, end < 0 ? undefined : end).trim();
}

/** Parses /proc/<pid>/status. */
export function parseStatus(text: string): StatusInfo {
  const uid = statusValue(text, 'Uid')?.split(/\s+/);
  const int = (v: string | undefined) => (v === undefined ? Number.NaN : Number.parseInt(v, 10));
  const ppid = int(statusValue(text, 'PPid'));
  const vss = int(statusValue(text, 'VmSize'));
  return {
    name: statusValue(text, 'Name') ?? '',
    state: statusValue(text, 'State')?.charAt(0) ?? '',
    ppid: Number.isNaN(ppid) ? 0 : ppid,
    uid: uid ? Number.parseInt(uid[1] ?? uid[0] ?? '-1', 10) : -1,
    vssBytes: Number.isNaN(vss) ? 0 : vss * 1024,
  };
}

/** smem's command column: the command line with its final NUL dropped and the others as spaces. */
export function formatCmdline(raw: string): string {
  return raw.slice(0, -1).replaceAll('\0', ' ');
}

/** The kernel's page size, from the first mapping of memcompare's own smaps (4 KiB on x86-64; 64 KiB on some arm64 kernels). */
let pageBytes: number | undefined;
function pageSize(): number {
  if (pageBytes !== undefined) return pageBytes;
  pageBytes = 4096;
  try {
    const fd = openSync('/proc/self/smaps', 'r');
    try {
      const buf = Buffer.alloc(4096);
      const text = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
      const kb = /^KernelPageSize:\s+(\d+) kB/m.exec(text)?.[1];
      if (kb) pageBytes = Number(kb) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // keep 4 KiB
  }
  return pageBytes;
}

/**
 * A process's resident anonymous memory now (resident less file-backed and shmem pages, from
 * /proc/<pid>/statm: counters, no page walk): 0.04 ms a read against 0.6-2 ms for smaps_rollup on a worker
 * building a 40 MiB body. Pages it shares copy-on-write count too, so it is no USS; a rise is new memory.
 * What the routes' transient peaks read. Undefined once it is gone.
 */
export function anonNow(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const f = readFileSync(`${procRoot}/${pid}/statm`, 'utf8').split(' ');
    return (Number(f[1]) - Number(f[2])) * pageSize();
  } catch {
    return undefined;
  }
}

/** A process's USS now, from its smaps_rollup (one read, the exit watch's whole cost); undefined once it is gone. */
export function ussNow(pid: number, procRoot = '/proc'): number | undefined {
  try {
    return deriveAmounts(parseRollup(readFileSync(`${procRoot}/${pid}/smaps_rollup`, 'utf8'))).ussBytes;
  } catch {
    return undefined;
  }
}

/**
 * The anonymous memory a process still shares (Shared_Clean + Shared_Dirty of its heap and anonymous
 * mappings, from the full smaps): for a forked worker, what it shares with its master and siblings,
 * which its exit's finalization writes to and so copies. Undefined when unreadable.
 */
export function sharedAnonymous(pid: number, procRoot = '/proc'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  let bytes = 0;
  for (const m of parseSmaps(text)) {
    if (m.name === '' || m.name === '[heap]' || m.name.startsWith('[anon'))
      bytes += (m.fields.Shared_Clean ?? 0) + (m.fields.Shared_Dirty ?? 0);
  }
  return bytes;
}
