import { join } from 'node:path';
import type { ContainerRecord } from '../memory.js';
import { readText as read } from './read-text.js';

/**
 * What a process's memory cgroup says, in bytes; memcompare only reads it (never creates or moves).
 * v2: memory.current, memory.peak (kernel 5.19+), memory.max ("max": no limit), memory.stat,
 * memory.events (oom, oom_kill). v1: memory.usage_in_bytes, max_usage_in_bytes, limit_in_bytes (the page
 * counter's maximum: no limit), memory.stat (total_*), memory.oom_control (under_oom, oom_kill on 4.13+).
 * Reclaimable: v2 active_file + inactive_file; v1 total_cache less dirty and shmem.
 */
export type CgroupMemory = Omit<ContainerRecord, 'exclusive' | 'otherProcesses' | 'headroomBytes'> & {
  /** Every process in the cgroup (cgroup.procs). */
  pids: number[];
};

/** "key value" lines (memory.stat, memory.events, memory.oom_control) into numbers. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

const num = (text: string | undefined): number | null => (text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : null);
// cgroup v1 reports "no limit" as the page counter's maximum rounded to pages (9223372036854771712 on x86-64).
const V1_UNLIMITED = 2 ** 60;

/** The memory controller's line of /proc/<pid>/cgroup: v1 "4:memory:/path", v2 "0::/path". */
export function memoryCgroupPath(procCgroup: string): { version: 1 | 2; path: string } | undefined {
  let v2: string | undefined;
  for (const line of procCgroup.split('\n')) {
    const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers?.split(',').includes('memory')) return { version: 1, path };
    if (controllers === '') v2 = path;
  }
  return v2 === undefined ? undefined : { version: 2, path: v2 };
}

/**
 * The memory cgroup of a process, read under `sysRoot` (/sys/fs/cgroup) and `procRoot` (/proc):
 * v1 under <sysRoot>/memory/<path>, v2 under <sysRoot>/<path>. Undefined when the process has no
 * memory cgroup or its files cannot be read (an older kernel, v1 without the memory controller).
 */
export function readCgroupMemory(pid: number, procRoot = '/proc', sysRoot = '/sys/fs/cgroup'): CgroupMemory | undefined {
  const where = memoryCgroupPath(read(`${procRoot}/${pid}/cgroup`) ?? '');
  if (!where) return undefined;
  const pids = (dir: string) =>
    (read(join(dir, 'cgroup.procs')) ?? '')
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  if (where.version === 2) {
    const dir = join(sysRoot, where.path);
    const current = num(read(join(dir, 'memory.current')));
    if (current === null) return undefined;
    const max = read(join(dir, 'memory.max'))?.trim();
    const stat = parseKeyValues(read(join(dir, 'memory.stat')));
    const events = parseKeyValues(read(join(dir, 'memory.events')));
    const has = (k: string) => (k in stat ? (stat[k] as number) : null);
    return {
      version: 2,
      path: where.path,
      currentBytes: current,
      peakBytes: num(read(join(dir, 'memory.peak'))),
      limitBytes: max === undefined || max === 'max' ? null : num(max),
      anonBytes: has('anon'),
      fileBytes: has('file'),
      shmemBytes: has('shmem'),
      kernelBytes:
        has('kernel') ?? (stat.kernel_stack !== undefined ? (stat.kernel_stack ?? 0) + (stat.slab ?? 0) + (stat.pagetables ?? 0) : null),
      sockBytes: has('sock'),
      reclaimableBytes: 'inactive_file' in stat || 'active_file' in stat ? (stat.inactive_file ?? 0) + (stat.active_file ?? 0) : null,
      oomKills: 'oom_kill' in events ? (events.oom_kill as number) : null,
      ooms: 'oom' in events ? (events.oom as number) : null,
      pids: pids(dir),
    };
  }
  const dir = join(sysRoot, 'memory', where.path);
  const current = num(read(join(dir, 'memory.usage_in_bytes')));
  if (current === null) return undefined;
  const limit = num(read(join(dir, 'memory.limit_in_bytes')));
  const stat = parseKeyValues(read(join(dir, 'memory.stat')));
  const oom = parseKeyValues(read(join(dir, 'memory.oom_control')));
  // Hierarchical totals (total_*) include child cgroups, as usage_in_bytes does.
  const v = (k: string) => stat[`total_${k}`] ?? stat[k] ?? null;
  const cache = v('cache');
  return {
    version: 1,
    path: where.path,
    currentBytes: current,
    peakBytes: num(read(join(dir, 'memory.max_usage_in_bytes'))),
    limitBytes: limit === null || limit >= V1_UNLIMITED ? null : limit,
    anonBytes: v('rss'),
    fileBytes: cache,
    shmemBytes: v('shmem'),
    kernelBytes: num(read(join(dir, 'memory.kmem.usage_in_bytes'))),
    sockBytes: null,
    reclaimableBytes: cache === null ? null : Math.max(0, cache - (v('dirty') ?? 0) - (v('shmem') ?? 0)),
    oomKills: 'oom_kill' in oom ? (oom.oom_kill as number) : null,
    ooms: 'under_oom' in oom ? (oom.under_oom as number) : null,
    pids: pids(dir),
  };
}

/** The container figures beside a tree's summed PSS: limit, headroom, reclaimable cache, OOM kills, and whether others share the cgroup. */
export interface ContainerFigures {
  cgroup: CgroupMemory;
  /** False when the cgroup also holds processes outside the measured tree: nothing in it is attributed to the tree. */
  exclusive: boolean;
  /** Processes in the cgroup that are not in the tree. */
  otherProcesses: number;
  /** limit − peak (or − current without a peak), when there is a limit. */
  headroomBytes: number | null;
}

/** The figures as a results document records them (without the cgroup's pid list). */
export function containerRecord(
  pid: number,
  tree: ReadonlySet<number>,
  procRoot = '/proc',
  sysRoot = '/sys/fs/cgroup',
): ContainerRecord | undefined {
  const cgroup = readCgroupMemory(pid, procRoot, sysRoot);
  if (!cgroup) return undefined;
  const f = containerFigures(cgroup, tree);
  const { pids: _pids, ...figures } = cgroup;
  return { ...figures, exclusive: f.exclusive, otherProcesses: f.otherProcesses, headroomBytes: f.headroomBytes };
}

export function containerFigures(cgroup: CgroupMemory, tree: ReadonlySet<number>): ContainerFigures {
  const others = cgroup.pids.filter((p) => !tree.has(p)).length;
  const used = cgroup.peakBytes ?? cgroup.currentBytes;
  return {
    cgroup,
    exclusive: others === 0,
    otherProcesses: others,
    headroomBytes: cgroup.limitBytes === null ? null : cgroup.limitBytes - used,
  };
}
