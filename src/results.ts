import type { WarmupResult } from './run/warm.js';
import type { SettleSettings, WarmupSettings } from './scenario/scenario.js';
import type { Role } from './servers/adapters.js';
import type { MemoryAmounts, ProcessMemory, SkippedProcess, SnapshotTotals } from './types.js';

/** The results document of `memcompare run`: the contract that every report and the CI gate read. */
export const RESULTS_SCHEMA_VERSION = 1;

/** One measured process of a run. */
export interface ProcessRecord extends Omit<MemoryAmounts, 'pssShmemBytes'> {
  pid: number;
  ppid: number;
  /** master, worker or other, as the server family's adapter classifies it. */
  role: Role;
  user: string;
  command: string;
  vssBytes: number;
}

export interface SettleRecord {
  /** True when total PSS stopped moving within the tolerance before the timeout. */
  settled: boolean;
  /** Samples taken. */
  samples: number;
  /** Time spent settling, in milliseconds. */
  durationMs: number;
  /** Total PSS of every sample, in bytes, oldest first. */
  totalPssHistoryBytes: number[];
  /** Change of total PSS between the last two samples, in percent. */
  lastChangePercent: number;
}

export interface Warning {
  /** Stable name of the warning. */
  kind:
    | 'idle-worker'
    | 'worker-replaced'
    | 'not-settled'
    | 'foreign-sharers'
    | 'warmup-errors'
    | 'worker-count'
    | 'skipped-processes'
    | 'noisy';
  message: string;
  /** What to do about it. */
  remedy: string;
  variant?: string;
  run?: number;
}

export interface RunRecord {
  /** 1-based run number of this variant. */
  index: number;
  startedAt: string;
  port: number;
  masterPid: number;
  /** Launch to ready, in milliseconds. */
  bootMs: number;
  /** Launch to measured (stopping excluded), in milliseconds. */
  wallMs: number;
  processes: ProcessRecord[];
  totals: SnapshotTotals;
  skipped: SkippedProcess[];
  warmup: WarmupResult;
  settle: SettleRecord;
  warnings: Warning[];
}

/** median with min and max over runs, in the unit its name gives. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent. */
  spreadPercent: number;
}

export interface VariantSummary {
  name: string;
  runs: number;
  workers: number;
  /** Mean over the workers of a run, then median/min/max over runs. */
  workerPssBytes: Spread;
  workerUssBytes: Spread;
  workerRssBytes: Spread;
  masterPssBytes: Spread;
  masterUssBytes: Spread;
  masterRssBytes: Spread;
  totalPssBytes: Spread;
  totalUssBytes: Spread;
  /** Sum of RSS: counts shared pages once per process; shown only to show why it misleads. */
  totalRssBytes: Spread;
  totalPssAnonBytes: Spread;
}

export interface Comparison {
  baseline: string;
  variant: string;
  metric: string;
  baselineBytes: number;
  variantBytes: number;
  /** baseline - variant (positive: the variant uses less). */
  savingBytes: number;
  savingPercent: number;
  /** variant / baseline medians, with the widest min/max ratios the runs allow. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

export interface HostInfo {
  os: string;
  kernel: string;
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  server: string;
}

export interface VariantResult {
  name: string;
  command: string[];
  env: Record<string, string>;
  runs: RunRecord[];
}

export interface ResultsDocument {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  tool: { name: 'memcompare'; version: string };
  startedAt: string;
  finishedAt: string | null;
  /** False while running, and when interrupted or failed: the runs present are still valid. */
  complete: boolean;
  /** Why the results are incomplete, if they are. */
  incompleteReason?: string;
  scenario: {
    name: string;
    description: string;
    server: string;
    workers: number;
    runs: number;
    warmup: WarmupSettings;
    settle: SettleSettings;
    file?: string;
  };
  host: HostInfo;
  variants: VariantResult[];
  summary: { variants: VariantSummary[]; comparisons: Comparison[] };
  warnings: Warning[];
}

export function toProcessRecord(p: ProcessMemory, role: Role): ProcessRecord {
  return {
    pid: p.pid,
    ppid: p.ppid,
    role,
    user: p.user,
    command: p.command,
    ussBytes: p.ussBytes,
    pssBytes: p.pssBytes,
    rssBytes: p.rssBytes,
    swapBytes: p.swapBytes,
    swapPssBytes: p.swapPssBytes,
    pssAnonBytes: p.pssAnonBytes,
    pssFileBytes: p.pssFileBytes,
    vssBytes: p.vssBytes,
  };
}
