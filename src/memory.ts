import type { Writable } from 'node:stream';

/** Public types. Every amount is in bytes and says so in its name. */

/** Why a process could not be measured. */
export type SkipReason = 'exited' | 'zombie' | 'permission' | 'kernel-thread' | 'unreadable';

export interface SkippedProcess {
  pid: number;
  reason: SkipReason;
  /** The errno or state behind the reason, e.g. "ENOENT at smaps_rollup". */
  detail: string;
}

/** The amounts of one process, derived from its smaps_rollup (or smaps) fields, in bytes. */
export interface MemoryAmounts {
  /** Unique set size: Private_Clean + Private_Dirty (smem's definition). */
  ussBytes: number;
  /** Proportional set size: Pss. */
  pssBytes: number;
  /** Resident set size: Rss (counts shared pages in full; never sum it across processes). */
  rssBytes: number;
  /** Swapped-out anonymous memory, ignoring sharing: Swap. */
  swapBytes: number;
  /** Swap shared proportionally: SwapPss (null before Linux 4.3). */
  swapPssBytes: number | null;
  /** Anonymous part of PSS: Pss_Anon (null before Linux 5.3). Does not depend on other processes. */
  pssAnonBytes: number | null;
  /** File-backed part of PSS: Pss_File (null before Linux 5.3). Shared with every process mapping the same files. */
  pssFileBytes: number | null;
  /** Shared-memory part of PSS: Pss_Shmem (null before Linux 5.3). */
  pssShmemBytes: number | null;
}

/** Memory of a set of mappings, in bytes (smem's per-mapping formulas, each mapping truncated to whole kB by the kernel). */
export interface MappingMemory {
  pssBytes: number;
  /** Private_Clean + Private_Dirty. */
  ussBytes: number;
  rssBytes: number;
  swapBytes: number;
}

/** One process's memory, as read from /proc/<pid>/smaps_rollup (or summed from smaps). */
export interface ProcessMemory extends MemoryAmounts {
  pid: number;
  ppid: number;
  uid: number;
  /** User name of the effective uid, or the uid as text when /etc/passwd has no entry (as smem does). */
  user: string;
  /** Process name (comm, at most 15 characters) from /proc/<pid>/status. */
  name: string;
  /** Command line with NULs as spaces (as smem prints it). */
  command: string;
  /** Virtual size: VmSize from /proc/<pid>/status. */
  vssBytes: number;
  /** Where the amounts came from. */
  source: 'smaps_rollup' | 'smaps';
  /** Every "Key: N kB" field of the source, in bytes, keyed by the kernel's name. */
  fields: Record<string, number>;
  /**
   * What memcompare's own process takes from this one's PSS and USS by mapping the same library pages
   * (proc/observer.ts); the amounts above already include it back, `fields` are the kernel's as read.
   */
  observer?: { pssBytes: number; ussBytes: number };
}

export interface SnapshotTotals {
  processes: number;
  ussBytes: number;
  pssBytes: number;
  rssBytes: number;
  swapBytes: number;
  swapPssBytes: number;
  pssAnonBytes: number;
  pssFileBytes: number;
  vssBytes: number;
}

/** The result of `memcompare snapshot`, and of each sample in a run. */
export interface Snapshot {
  schemaVersion: 1;
  /** ISO 8601 time the snapshot started. */
  takenAt: string;
  /** Wall time the snapshot took, in milliseconds. */
  durationMs: number;
  processes: ProcessMemory[];
  totals: SnapshotTotals;
  skipped: SkippedProcess[];
  /** The observer's share taken out of the figures above: how, and how much in all. Absent when not computed (recorded /proc). */
  observer?: ObserverRecord;
}

/** Which processes a snapshot measures. With no selector at all, every readable process. */
export interface Selection {
  pids?: number[];
  /** With pids: those pids and all their descendants. */
  tree?: boolean;
  /** Regular expression searched in the command line and process name (like smem -P). */
  match?: RegExp;
  /** User name or numeric uid. */
  user?: string;
}

/** Where a command's output goes. Renderers return strings; the CLI picks the stream. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
}

/** A memory cgroup's figures beside the summed PSS, read only (cgroup v1 or v2), in bytes. */
export interface ContainerRecord {
  version: 1 | 2;
  /** The cgroup's path in the memory hierarchy. */
  path: string;
  currentBytes: number;
  /** null when the kernel keeps no peak (cgroup v2 before 5.19). */
  peakBytes: number | null;
  /** null without a limit. */
  limitBytes: number | null;
  anonBytes: number | null;
  /** Page cache. */
  fileBytes: number | null;
  shmemBytes: number | null;
  kernelBytes: number | null;
  sockBytes: number | null;
  /** Page cache the kernel can reclaim under pressure. */
  reclaimableBytes: number | null;
  oomKills: number | null;
  ooms: number | null;
  /** False when other processes share the cgroup: its figures are not the server's alone, and nothing is attributed to it. */
  exclusive: boolean;
  /** Processes in the cgroup outside the measured tree. */
  otherProcesses: number;
  /** limit − peak (or − current without a peak), when there is a limit. */
  headroomBytes: number | null;
}

/**
 * memcompare's own share of the measured processes' pages (its Node process maps libc, libm, libstdc++ and
 * libgcc_s, which the servers map too): added back to their PSS and USS so that they read as without it.
 */
export interface ObserverRecord {
  /** `pagemap`: exact, frame by frame (root); `estimate`: from each shared mapping's Rss/Pss (see reason). */
  method: 'pagemap' | 'estimate';
  /** Why the exact method was not used. */
  reason?: string;
  /** The processes whose share was taken out (memcompare's own). */
  observerPids: number[];
  /** PSS and USS added back, summed over the measured processes. */
  pssBytes: number;
  ussBytes: number;
}
