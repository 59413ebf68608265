// What the run's stages say as they go: events, not text. render/progress.ts words them for the terminal
// (the progress line, or a line per stage when piped); a library caller may read them as they are.
import type { ReforkRecord, ReloadRecord, SoakRecord, SteadyRecord, ThroughputRecord, WarmupResult } from './types.js';

/** A soak's state at one of its samples (a progress bar on a terminal). */
export interface SoakTick {
  elapsedMs: number;
  durationMs: number;
  requests: number;
  totalPssBytes: number;
  peakPssBytes: number;
}

/** One event of a run. `tag` is `[variant run/planned]`, the run's name in every line. */
export type RunEvent =
  | { stage: 'services'; starting: string[] }
  | { stage: 'services'; ready: { name: string; port: number; pid: number }[] }
  | { stage: 'launch'; tag: string; pid: number; port: number; argv: string[] }
  | { stage: 'port-wait'; tag: string; port: number }
  | { stage: 'ready'; tag: string; bootMs: number; workers: number; detected: boolean }
  | { stage: 'warm'; tag: string; warmup: WarmupResult; soakSeconds?: number }
  | { stage: 'steady'; tag: string; record: SteadyRecord }
  | { stage: 'soak'; tag: string; record: SoakRecord }
  | { stage: 'soak-tick'; tag: string; tick: SoakTick }
  | { stage: 'settle'; tag: string; settled: boolean; samples: number }
  | { stage: 'rewarm'; tag: string; workers: number[] }
  | { stage: 'reload-signal'; tag: string; file: string; signal: string; pid: number }
  | { stage: 'reload'; tag: string; record: ReloadRecord }
  | { stage: 'refork-signal'; tag: string; signal: string; pid: number; workers: number }
  | { stage: 'refork'; tag: string; record: ReforkRecord }
  | { stage: 'sample'; tag: string; totalPssBytes: number }
  | { stage: 'throughput-start'; tag: string; seconds: number; connections: number }
  | { stage: 'throughput'; tag: string; record: ThroughputRecord }
  | { stage: 'stop'; tag: string; forced: boolean };
