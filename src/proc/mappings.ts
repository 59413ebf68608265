import { readFileSync } from 'node:fs';
import type { MappingMemory } from '../memory.js';
import { parseSmaps } from './smaps.js';

/** What one mapping name holds in one process, or summed over processes, in bytes. */
export interface MappingAmounts extends MappingMemory {
  /** Shared_Clean + Shared_Dirty. */
  sharedBytes: number;
}

export interface MappingRow extends MappingAmounts {
  /** A file path, [heap], [stack], [vdso], … or <anonymous> (smem's name for a mapping without one). */
  name: string;
  /** Processes that map it. */
  processes: number;
  /** Mappings of that name, over those processes. */
  mappings: number;
}

const ZERO = (): MappingAmounts => ({ pssBytes: 0, ussBytes: 0, rssBytes: 0, swapBytes: 0, sharedBytes: 0 });

function addInto(t: MappingAmounts, a: MappingAmounts): void {
  t.pssBytes += a.pssBytes;
  t.ussBytes += a.ussBytes;
  t.rssBytes += a.rssBytes;
  t.swapBytes += a.swapBytes;
  t.sharedBytes += a.sharedBytes;
}

/**
 * Per mapping name, one process's full /proc/<pid>/smaps: smem's formulas per mapping (USS =
 * Private_Clean + Private_Dirty; PSS, RSS, Swap as the kernel gives them, truncated to whole kB per
 * mapping). A deleted file keeps its path without the " (deleted)" mark.
 */
export function parseMappings(text: string): Map<string, MappingAmounts & { mappings: number }> {
  const out = new Map<string, MappingAmounts & { mappings: number }>();
  for (const { name: raw, fields: f } of parseSmaps(text)) {
    const name = raw.replace(/ \(deleted\)$/, '') || '<anonymous>';
    const cur = out.get(name) ?? { ...ZERO(), mappings: 0 };
    cur.mappings++;
    cur.pssBytes += f.Pss ?? 0;
    cur.rssBytes += f.Rss ?? 0;
    cur.swapBytes += f.Swap ?? 0;
    cur.ussBytes += (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0);
    cur.sharedBytes += (f.Shared_Clean ?? 0) + (f.Shared_Dirty ?? 0);
    out.set(name, cur);
  }
  return out;
}

/** One process's mappings; undefined when it is gone or not ours to read. Walks every page table: costly. */
export function readMappings(pid: number, procRoot = '/proc'): Map<string, MappingAmounts & { mappings: number }> | undefined {
  try {
    return parseMappings(readFileSync(`${procRoot}/${pid}/smaps`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Rows over several processes: amounts summed per name, with the number of processes mapping it. */
export function sumMappings(perProcess: Iterable<Map<string, MappingAmounts & { mappings: number }>>): MappingRow[] {
  const rows = new Map<string, MappingRow>();
  for (const maps of perProcess) {
    for (const [name, a] of maps) {
      const r = rows.get(name) ?? { name, processes: 0, mappings: 0, ...ZERO() };
      r.processes++;
      r.mappings += a.mappings;
      addInto(r, a);
      rows.set(name, r);
    }
  }
  return [...rows.values()];
}

/** The categories a user reasons in. */
export type GroupKind = 'heap-anon' | 'interpreter' | 'package' | 'other-file' | 'stack-special';

/**
 * The group of a mapping name. Extension modules and gems are grouped by their package, taken from
 * the path after dist-packages/site-packages/gems (not by a "python3" substring, which matches
 * dist-packages too); the interpreter is libpython/libruby or the python, ruby or node executable.
 */
export function groupOf(name: string): { group: string; kind: GroupKind } {
  if (name === '[heap]' || name === '<anonymous>' || name.startsWith('[anon')) return { group: 'heap and anonymous', kind: 'heap-anon' };
  if (name.startsWith('[')) return { group: 'stacks and special', kind: 'stack-special' };
  const pkg = /\/(?:dist-packages|site-packages)\/([^/]+)/.exec(name) ?? /.*\/gems\/([^/]+?)(?:-\d[^/]*)?\//.exec(name);
  if (pkg) {
    const base = (pkg[1] as string)
      .replace(/\.libs$/, '')
      .replace(/\.cpython-.*$/, '')
      .replace(/\.so$/, '');
    return { group: `package ${base}`, kind: 'package' };
  }
  const file = name.split('/').pop() ?? name;
  if (/^lib(python|ruby)/.test(file) || /^(python|ruby)[\d.]*$/.test(file) || file === 'node') {
    return { group: 'interpreter', kind: 'interpreter' };
  }
  return { group: 'other files', kind: 'other-file' };
}

export interface GroupRow extends MappingAmounts {
  group: string;
  kind: GroupKind;
  /** Mapping names in the group. */
  names: number;
}

export function groupRows(rows: readonly MappingRow[]): GroupRow[] {
  const out = new Map<string, GroupRow>();
  for (const r of rows) {
    const { group, kind } = groupOf(r.name);
    const g = out.get(group) ?? { group, kind, names: 0, ...ZERO() };
    g.names++;
    addInto(g, r);
    out.set(group, g);
  }
  return [...out.values()];
}
