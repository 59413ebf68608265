import { readFileSync } from 'node:fs';
import type { MemoryAmounts } from '../memory.js';

/**
 * Parsers for /proc/<pid>/smaps_rollup and /proc/<pid>/smaps text.
 * Fields are taken by key name, never by position: newer kernels add fields in the middle.
 */

/** Amount fields ("Key:   123 kB"), converted to bytes. */
export type AmountFields = Record<string, number>;

const AMOUNT_LINE = /^([A-Za-z_][A-Za-z0-9_]*):\s+(\d+) kB$/;

/** Parses smaps_rollup text into bytes per field. Lines that are not "Key: N kB" are ignored. */
export function parseRollup(text: string): AmountFields {
  const fields: AmountFields = {};
  for (const line of text.split('\n')) {
    const m = AMOUNT_LINE.exec(line.trimEnd());
    if (m) fields[m[1] as string] = Number(m[2]) * 1024;
  }
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

/** Parses /proc/<pid>/status. */
export function parseStatus(text: string): StatusInfo {
  const info: StatusInfo = { name: '', state: '', ppid: 0, uid: -1, vssBytes: 0 };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    switch (key) {
      case 'Name':
        info.name = value;
        break;
      case 'State':
        info.state = value.charAt(0);
        break;
      case 'PPid':
        info.ppid = Number.parseInt(value, 10);
        break;
      case 'Uid': {
        const ids = value.split(/\s+/);
        info.uid = Number.parseInt(ids[1] ?? ids[0] ?? '-1', 10);
        break;
      }
      case 'VmSize':
        info.vssBytes = Number.parseInt(value, 10) * 1024;
        break;
    }
  }
  return info;
}

/** smem's command column: the command line with its final NUL dropped and the others as spaces. */
export function formatCmdline(raw: string): string {
  return raw.slice(0, -1).replaceAll('\0', ' ');
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
