import type { LoadGenerator, WarmupProtocol } from '../../protocols/protocol.js';
import type { RunEvent } from '../../results/events.js';
import type { ResultsDocument, WarmupSettings, WorkerCountSource } from '../../results/types.js';
import type { Scenario, Variant } from '../../scenario/scenario.js';
import type { ServerFamily } from '../../servers/family.js';
import type { RunDeps, ServerHandle } from '../seams.js';

export interface RunOptions {
  /** Overrides the scenario's run count. */
  runs?: number;
  /** The family to use instead of the scenario's server family. */
  family?: ServerFamily;
  /** The output sink: called with the document after every run, and at the end (persist it here). */
  onUpdate?: (doc: ResultsDocument) => void;
  /** Every stage's events as they happen (render/progress.ts words them). */
  onEvent?: (event: RunEvent) => void;
  /** Where to copy the server's output (--show-output). */
  echo?: NodeJS.WritableStream;
  /** A per-worker USS limit: after a soak, the recycling setting that keeps workers under it. */
  maxWorkerUssBytes?: number;
  /**
   * Asked after the last planned round and after each added one (`run --until-decided`): true adds one
   * more interleaved round of every variant. The caller bounds it (the rounds done are passed).
   */
  moreRuns?: (doc: ResultsDocument, roundsDone: number) => boolean;
  signal?: AbortSignal;
  version?: string;
  /** `run --imports`: one more boot of each variant with the import probe, after the measured runs. */
  imports?: boolean;
}

/** What one run of one variant needs. */
export interface RunContext {
  scenario: Scenario;
  family: ServerFamily;
  variant: Variant;
  /** 1-based run number of this variant. */
  index: number;
  options: RunOptions;
  deps: RunDeps;
  /** `[variant i/n]`, the name of the run in every event. */
  tag: string;
  /** The companion services' ports, by name ({services.NAME.port}). */
  services: Record<string, number>;
  emit: (event: RunEvent) => void;
  /** Settles when every process of the previous server is gone (awaited before the warm-up). */
  previousGone: Promise<unknown>;
  /** True while the previous server is still stopping. */
  previousStopping: () => boolean;
  /**
   * With `until: steady`, the depth (requests per worker) every variant is warmed to: the deepest any variant
   * needed in its first run. Undefined while the first runs find it.
   */
  targetRequestsPerWorker?: number;
  /** A first run after other variants' first runs: warmed at least to the deepest of them once steady (run/steady.ts). */
  minRequestsPerWorker?: number;
  /** The first variant's first run of a comparison: once steady, it warms on while rounds are cheap (warmOnBudgetMs). */
  warmOn?: boolean;
  /**
   * A run repeated at the common depth: its throughput phase is not run again (the first boot's is kept,
   * replaceShallowRun): the phase's load does not depend on how deep the warm-up went, and it costs seconds.
   */
  keepsThroughput?: boolean;
}

/** A server booted for one run, with what the later stages need to know of it. */
export interface Booted {
  server: ServerHandle;
  port: number;
  argv: string[];
  /** The variant's environment as the server got it (placeholders filled in). */
  env: Record<string, string>;
  expected: { count: number | undefined; source: WorkerCountSource };
  appCopy: { dir: string; remove(): void } | undefined;
  /** The filled configuration of this run, removed when the server has stopped. */
  config: { path: string; remove(): void } | undefined;
  /** Every pid on the host before the launch (to tell what a daemonizing server left). */
  before: Set<number>;
  /** The warm-up's settings for this run (a command's placeholders filled in), and what speaks them. */
  warmup: WarmupSettings;
  protocol: WarmupProtocol;
  /** The protocol's load on the wire, with this run's environment. */
  load: LoadGenerator;
}
