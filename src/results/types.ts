// The bottom layer: the results document every stage writes and every report, export and gate reads.
// It imports nothing from run/, render/, export/, check/, scenario/ or servers/ (test/unit/layers.test.ts).
import type {
  ContainerRecord,
  MappingMemory,
  MemoryAmounts,
  ObserverRecord,
  ProcessMemory,
  SkippedProcess,
  SnapshotTotals,
} from '../memory.js';
import type { TcpConnectionShared } from '../proc/sockets.js';
import type { ImportsRecord } from './imports.js';

/** The results document of `memcompare run`: the contract that every report and the CI gate read. */
export const RESULTS_SCHEMA_VERSION = 1;

/** A process's part in a server tree, as its server family classifies it. */
export type Role = 'master' | 'worker' | 'other';

/** What every warm-up has, whatever it speaks. */
interface WarmupCommon {
  /** Requests to send in all (the article: 30). */
  requests: number;
  /** Concurrent connections (the article: 30). */
  connections: number;
  /** Request path. */
  path: string;
  /** A response header carrying the worker's pid, to count requests per worker (optional). */
  workerPidHeader?: string;
  /** `steady` (the default unless a count is given): after the first round, rounds until the workers' memory is steady (bounded). */
  until?: 'count' | 'steady';
}

/** One route of an app's load: a request, and its share of the mix. */
export interface Route {
  path: string;
  /** GET unless said. */
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Its share of the mix against the others' (default 1). */
  weight: number;
}

/** HTTP GETs on loopback: the default. */
export interface HttpWarmupSettings extends WarmupCommon {
  protocol?: 'http';
  /** The request, when it is not a GET of `path` alone (a route of the mix). */
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /**
   * Several routes (`--path`, the scenario's `routes`): the warm-up and the steady rounds send each its share,
   * the soak sends them one at a time in turn (so that each one's growth can be told apart), the throughput
   * phase sends the mix. `path` is the first one's.
   */
  routes?: Route[];
  script?: undefined;
  socket?: undefined;
  command?: undefined;
  timeoutSeconds?: undefined;
}

/** A protocol of the server's own that runs one script (registered in protocols/): the script, and the Unix socket the pool may listen on. */
export interface ScriptWarmupSettings extends WarmupCommon {
  /** The protocol's registered name (protocols/registry.ts). */
  protocol: string;
  /** The script the server runs, an absolute path. */
  script: string;
  /** A Unix socket (the pool's listen address) instead of a loopback port. */
  socket?: string;
  command?: undefined;
  timeoutSeconds?: undefined;
  method?: undefined;
  body?: undefined;
  headers?: undefined;
  routes?: undefined;
}

/** A warm-up by command (a task queue): it does the work and prints the pid of the worker that served each unit. */
export interface CommandWarmupSettings extends WarmupCommon {
  protocol?: undefined;
  script?: undefined;
  socket?: undefined;
  command: string[];
  /** Bound on one run of the warm-up command, seconds. */
  timeoutSeconds?: number;
  method?: undefined;
  body?: undefined;
  headers?: undefined;
  routes?: undefined;
}

/** The warm-up's settings, one kind per protocol. */
export type WarmupSettings = HttpWarmupSettings | ScriptWarmupSettings | CommandWarmupSettings;

export interface SettleSettings {
  /** Time between samples. */
  intervalMs: number;
  /** Largest change of total PSS between consecutive samples that counts as still. */
  tolerancePercent: number;
  /** Consecutive still samples needed. */
  stableSamples: number;
  /** Give up (and warn) after this long. */
  timeoutMs: number;
}

/** What the warm-up did: a hey-style account of the load sent to the server. */
export interface WarmupResult {
  url: string;
  /** Requests that got a response. */
  requests: number;
  /** Requests sent. */
  sent: number;
  connections: number;
  durationMs: number;
  requestsPerSecond: number;
  /** Responses per HTTP status code, e.g. {"204": 30}. */
  statusCodes: Record<string, number>;
  /** Connection errors (refused, reset, timeouts included). */
  errors: number;
  timeouts: number;
  /** Response latency in milliseconds. */
  latencyMs: {
    min: number;
    mean: number;
    p10: number;
    p25: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    max: number;
  };
  /** Requests answered by each worker pid (only when the app reports its pid in a header). */
  requestsPerWorker?: Record<string, number>;
  /**
   * The pid header's values when none of them is a worker's (an app that reads its pid at import, preloaded
   * into the master): the header is then no evidence, and the workers are proved another way.
   */
  pidHeaderNotWorkers?: string[];
  /** How it was decided that each worker served traffic. */
  trafficEvidence: 'pid-header' | 'connection' | 'cpu-time';
  /** Workers with no sign of having served a request. */
  idleWorkers: number[];
  /**
   * Extra rounds sent after the warm-up because some workers had served nothing (a worker that never
   * served is not warm and would understate memory). Counted apart from the figures above.
   */
  topUp?: { rounds: number; requests: number; statusCodes: Record<string, number>; errors: number };
  /** With `until: steady`: the rounds that followed until no worker's USS grew in the last one. */
  steady?: SteadyRecord;
}

/** A warm-up to a steady state: rounds until the workers' private memory grows less than a threshold per request. */
export interface SteadyRecord {
  /** Rounds after the first warm-up, and the requests they sent. */
  rounds: number;
  requests: number;
  /** Requests per worker in all, the first warm-up included (the depth reached). */
  requestsPerWorker: number;
  /** How long the rounds took, milliseconds. */
  durationMs: number;
  /** Growth of the workers' USS per request in the last round, bytes (the largest of the tree's and each counted worker's). */
  lastBytesPerRequest: number;
  /** The growth per request that counts as steady, bytes (1 KiB, or 0.5% of the total PSS per 400 requests). */
  thresholdBytesPerRequest: number;
  /** True when the last round was steady. */
  reached: boolean;
  /** The workers grew about the same per request in each of the last rounds: growth per request (see the soak's fit), not warming. */
  linear: boolean;
  /** The bound that ended it, when one did (50 rounds, 100,000 requests, 120 s). */
  bound?: 'rounds' | 'requests' | 'time';
  /** Requests in flight during the rounds, each on its own connection, the next sent as one is answered. */
  inFlight?: number;
  /**
   * The depth this run was warmed to because another variant needed it (requests per worker): every variant of a
   * comparison is measured at the deepest depth any needed in its first run. `reached` then says whether the
   * workers were steady at it; they are not warmed past it.
   */
  targetRequestsPerWorker?: number;
  /** A first run measured shallower than the common depth and run again at it: the depth it had reached. */
  replacedDepth?: number;
  /**
   * Why the rounds went on past the depth at which the workers were first steady (steadyAtRequestsPerWorker):
   * to the depth an earlier variant's first run reached, or, in the first variant's first run, while a round
   * cost less than a quarter of a boot (so that the other variants' depth is reached without booting it again).
   * The last round is steady either way.
   */
  warmedOn?: 'to-an-earlier-variant' | 'while-cheap';
  steadyAtRequestsPerWorker?: number;
}

/** One measured process of a run. */
export interface ProcessRecord extends Omit<MemoryAmounts, 'pssShmemBytes'> {
  pid: number;
  ppid: number;
  /** master, worker or other, as its server family classifies it. */
  role: Role;
  user: string;
  command: string;
  vssBytes: number;
  /** memcompare's own share of this process's pages, added back to pssBytes and ussBytes (absent when none). */
  observerPssBytes?: number;
  observerUssBytes?: number;
  /**
   * Private_Dirty as the kernel gives it (the observer's share not added back): what a server's own memory tool
   * may report as "private"; ussBytes adds the private clean pages. Absent when not read.
   */
  privateDirtyBytes?: number;
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
    | 'pid-header-not-worker'
    | 'worker-count'
    | 'skipped-processes'
    | 'noisy'
    | 'not-linear'
    | 'pool-not-fixed'
    | 'warmup-not-steady'
    | 'soak-errors'
    | 'inherited-connection';
  message: string;
  /** What to do about it. */
  remedy: string;
  variant?: string;
  run?: number;
}

/** Where a run's worker count came from: declared (scenario, --workers), read from the command, or detected. */
export type WorkerCountSource = 'declared' | 'command' | 'detected';

/** Load kept on after the warm-up while the tree is sampled (`run --soak`, a scenario's `soak`). */
export interface SoakSettings {
  durationSeconds: number;
  /** Concurrent connections (one request per connection, as the warm-up). */
  connections: number;
  /** Requests per second overall; absent: as fast as the server answers. */
  rate?: number;
  /** Wanted time between samples, milliseconds (stretched to keep the sampler within maxCpuPercent). */
  intervalMs: number;
  /** The sampler's CPU budget, percent of one core. */
  maxCpuPercent: number;
}

/** Samples of a tree over time, in columns: arrays aligned with tMs; null where a process did not exist. */
export interface Timeline {
  /** Milliseconds since the soak began. */
  tMs: number[];
  /** Requests answered so far, at each sample. */
  requests: number[];
  processes: Array<{
    pid: number;
    role: Role;
    pssBytes: (number | null)[];
    ussBytes: (number | null)[];
    rssBytes: (number | null)[];
    /** Shared_Clean + Shared_Dirty: where copy-on-write erosion shows. */
    sharedBytes: (number | null)[];
    /** Requests this worker had served since the soak began (from the worker-pid header), at each sample. */
    served?: (number | null)[];
    /** The process it was forked from, at its first sample (a worker forked by another worker names that one). */
    ppid?: number;
  }>;
}

/** One worker's copy-on-write over the soak. */
export interface SoakWorker {
  pid: number;
  sharedStartBytes: number;
  sharedEndBytes: number;
  /** sharedStartBytes − sharedEndBytes: pages that stopped being shared (erosion). */
  sharedLostBytes: number;
  ussStartBytes: number;
  ussEndBytes: number;
  /** Shared part at the end ÷ the RSS of the process it was forked from at the start, percent (Pitchfork's copy-on-write efficiency). */
  cowEfficiencyPercent: number;
  /** Other workers were forked from this one (a mold: worker 0 of a fork_worker server): their parent, left out of the efficiency's mean. */
  mold?: boolean;
}

/** How one worker's USS followed the requests it served during a soak. */
export interface WorkerGrowth {
  pid: number;
  /** Requests it served during the soak (from the worker-pid header). */
  requests: number;
  ussFirstBytes: number;
  ussLastBytes: number;
  /** Least-squares slope of USS on requests served, bytes per request, and its R². */
  bytesPerRequest: number;
  r2: number;
  /** Its growth stopped: the second half of its requests grew it less than a tenth of the first half's rate. */
  plateau: boolean;
}

/** Growth per unit of work: per worker and pooled over the variant's workers. */
/** What one route of the soak's mix did to the workers (the soak sends the routes one at a time, in turn, repeated). */
export interface RouteGrowth {
  path: string;
  method: string;
  weight: number;
  /** Stretches of the soak in which it was the route sent, and the requests answered in them. */
  segments: number;
  requests: number;
  /**
   * Private memory (USS) a worker keeps per request of this route: least squares through the origin of each
   * worker's USS change in a stretch against the requests it served in it; R² and a 95% interval.
   */
  bytesPerRequest: number;
  r2: number;
  interval: [number, number];
  /** The highest USS a worker reached above its level at the start of a stretch of this route, while it was sent (read closely: a peak of tens of ms). */
  transientPeakBytes: number;
  /** The worker that reached it. */
  transientPeakPid: number | null;
}

export interface GrowthRecord {
  verdict: GrowthVerdict;
  /** Pooled within-worker slope (each worker against its own start), bytes per request, and its R². */
  bytesPerRequest: number;
  r2: number;
  /** Requests per worker on average during the soak. */
  requestsPerWorker: number;
  workers: WorkerGrowth[];
}

/** A refork during a soak: the tree's total PSS before it, right after it (every new worker there), and at the soak's end. */
export interface ReforkRecord {
  /** When the first old worker was seen gone, milliseconds since the soak began. */
  tMs: number;
  /** Workers forked anew. */
  workers: number;
  beforeBytes: number;
  afterBytes: number;
  endBytes: number;
  /**
   * The reforked workers against the ones they replaced, at the same requests served since each one's fork (the
   * old generation's warm-up requests counted): the mean USS of each, the saving per worker (old − new; negative
   * when the new workers hold more), along the new generation's requests; absent when the depths do not overlap.
   */
  equalDepth?: Array<{ requests: number; oldUssBytes: number; newUssBytes: number; savingBytesPerWorker: number }>;
  /** Requests per new worker after which the saving stayed under half a MiB per worker; null while it still paid at the last depth compared. */
  stopsPayingAfter?: number | null;
  /** When the server reforks on its own and how to ask it for another (its family's words). */
  schedule?: string;
  /** A refork asked by the run (a variant with `refork`): the warm-up's requests re-run for the new generation. */
  warmedRequests?: number;
  /** The depth (requests per worker) the first generation was measured at, and whether every new worker reached it. */
  depthRequests?: number;
  reachedDepth?: boolean;
  /** Mean USS of the workers replaced (the mold left out) when measured, and of the new ones warmed again. */
  oldWorkerUssBytes?: number;
  newWorkerUssBytes?: number;
}

/** Pitchfork's copy-on-write efficiency over a soak: each worker's shared part over the RSS of the process it was forked from. */
export interface CowEfficiencyRecord {
  /** What the workers were forked from: the master, or a worker (a mold: worker 0 of a fork_worker server). */
  parent: 'master' | 'worker';
  /** Mean over the workers of a generation at each sample: requests served per worker since its fork, and the percent. */
  points: Array<{ generation: number; requests: number; percent: number }>;
}

/** One worker that left the tree during the soak, and the one that took its place. */
export interface ReplacementRecord {
  /** When it was first seen gone, milliseconds since the soak began. */
  tMs: number;
  oldPid: number;
  newPid: number | null;
  /** Requests the old worker served during the soak, and its last USS seen. */
  oldRequests: number;
  oldLastUssBytes: number | null;
  /** The old worker's largest USS while it exited, sampled closely from its server's recycling line to its end; null when not watched. */
  oldExitPeakUssBytes: number | null;
  /** The new worker's USS at its first sample, and after its first requests (its first sample with 10 or more served). */
  newUssAtBirthBytes: number | null;
  newUssAfterBytes: number | null;
  /** From the old worker's last sample to a sample with the full worker count again, milliseconds. */
  wholeAgainMs: number | null;
  /** The server's own recycling (its log said so), a refork (a worker forked anew from a warm one, its log said so), or a death (no such line). */
  cause: 'recycled' | 'died' | 'refork';
}

/** The recycling advice for a per-worker USS limit: the requests a fresh worker may serve before it reaches the limit. */
export interface LifetimeAdvice {
  limitBytes: number;
  freshUssBytes: number;
  bytesPerRequest: number;
  /** What a worker copies when it exits (its finalization writes to pages it shared with the master), and how that was known. */
  exitCopyBytes: number;
  exitCopySource: ExitCopy['source'];
  /** Requests per worker before the limit; null when no setting can hold it or none is needed. */
  requests: number | null;
  setting: string | null;
  /** What the figures say, one sentence. */
  text: string;
  /** The family's exit remedy, when a round with it applied measured a copy under a quarter of the one without. */
  remedy?: { text: string; exitCopyBytes: number; exits: number };
  /**
   * The family's memory-watching setting (an RSS threshold), where it has one: set where a worker's RSS
   * is when its USS reaches the limit (fresh RSS + RSS per request × requests); setting null when it
   * cannot hold the limit (a forked worker starting from its parent's peak above the threshold).
   */
  memory?: { thresholdBytes: number; freshRssBytes: number; rssBytesPerRequest: number; setting: string | null; text: string };
}

export type GrowthVerdict = 'growth' | 'plateau' | 'flat' | 'too-short';

/**
 * What a worker copies at its exit: measured (the largest rise from its last USS to its peak while it
 * exited, over the soak's replacements) or predicted (the anonymous memory a live worker still shares
 * with the master, which finalization writes to).
 */
export interface ExitCopy {
  bytes: number;
  source: 'measured' | 'predicted';
  /** Exits watched (measured), or workers read (predicted). */
  count: number;
}

/** A second soak with the advised recycling setting: every worker's peak USS against the limit. */
export interface VerificationRecord {
  variant: string;
  /** 1 for the advice as given; each later round lowers the setting by what the previous one's overshoot says (at most 3). */
  round: number;
  /** The setting applied, and its arguments on the command line. */
  setting: string;
  args: string[];
  limitBytes: number;
  /** The largest USS each worker reached during the verifying soak (replacements included). */
  workerPeakUssBytes: number[];
  replacements: number;
  /** True when every worker stayed at or under the limit. */
  within: boolean;
  /** What a worker copied at its exit in this round's soak (measured at its replacements, else predicted). */
  exitCopy?: ExitCopy;
  /** A round with the family's memory-watching setting instead of the request count: its threshold, and the workers recycled at birth (born in the soak, replaced after fewer than 2 requests). */
  byRss?: { thresholdBytes: number; recycledAtBirth: number };
  /** A round with the family's exit remedy applied as well: what a worker copied at its exit then (null: no exit watched), and without it. */
  remedy?: { text: string; exitCopyBytes: number | null; exits: number; withoutBytes: number };
}

export interface SoakRecord {
  durationMs: number;
  /** Requests answered during the soak. */
  requests: number;
  /** Requests sent during the soak (absent in documents before it was recorded). */
  sent?: number;
  /** The client the soak's load went through: autocannon, or memcompare's own lanes where the app's answers end at the server's close. */
  client?: 'autocannon' | 'lanes';
  errors: number;
  statusCodes: Record<string, number>;
  requestsPerSecond: number;
  /** The rate asked for, or null for as fast as the server answers. */
  rate: number | null;
  /** The largest total PSS of any sample during the soak (what the OOM killer would have met). */
  peakTotalPssBytes: number;
  samples: number;
  /** Interval asked for and achieved, milliseconds. */
  intervalMs: number;
  achievedIntervalMs: number;
  /** The sampler's own CPU time per sample (milliseconds) and its share of one core (percent). */
  samplerCpuMsPerSample: number;
  samplerCpuPercent: number;
  maxCpuPercent: number;
  /** Workers present from the first sample to the last. */
  workers: SoakWorker[];
  timeline: Timeline;
  /** USS against requests served, per worker and pooled (needs the worker-pid header). */
  growth?: GrowthRecord;
  /** Workers that left the tree during the soak and those that took their place. */
  replacements?: ReplacementRecord[];
  /** The largest USS of each worker watched while it exited, by pid (sampled closely from the server's recycling line to the worker's end). */
  exitPeakUssBytes?: Record<string, number>;
  /** What a worker copies when it exits, measured at the soak's exits or predicted from a live worker's shared anonymous memory. */
  exitCopy?: ExitCopy;
  /** With --max-worker-uss: the recycling setting that keeps a worker under it. */
  advice?: LifetimeAdvice;
  /** A refork the server's log announced during the soak, its generations' totals. */
  refork?: ReforkRecord;
  /** The shared fraction of the workers over requests served, per generation (needs the worker-pid header). */
  cowEfficiency?: CowEfficiencyRecord;
  /** With several routes: each one's growth and transient peak, and how closely the peaks were read. */
  routes?: {
    byRoute: RouteGrowth[];
    peakReadEveryMs: number;
    /** Each worker's highest USS read closely during the routes' stretches, by pid (the verification counts it). */
    peakUssBytes: Record<string, number>;
  };
}

/** Memory of a set of mappings, in bytes (smem's per-mapping formulas). */
export type MappingAmounts = MappingMemory;

/** One group or mapping of a run's breakdown: the master's, and the workers' summed and per worker on average. */
export interface MappingShare {
  /** Group name ("heap and anonymous", "interpreter", "package numpy", "other files", "stacks and special") or mapping name. */
  name: string;
  master: MappingAmounts;
  workersSum: MappingAmounts;
  workerMean: MappingAmounts;
}

/** Where a run's memory is, from full /proc/<pid>/smaps at its final sample. */
export interface MappingBreakdown {
  /** Time to read the full smaps of the master and workers, milliseconds (they walk every page table). */
  readMs: number;
  groups: MappingShare[];
  /** The mappings with the most PSS in master + workers (at most 25). */
  top: MappingShare[];
}

export type { ContainerRecord } from '../memory.js';

/** What a reload did (scenarios with `reload`): does the server pick up a code change? */
export interface ReloadRecord {
  /** The signal sent to the master. */
  signal: string;
  /** The file edited and what `path` answered before and after the reload (bodies, trimmed). */
  file: string;
  path: string;
  before: string;
  after: string;
  /** True when the new workers still serve the old body: the reload did not pick up the code. */
  stale: boolean;
  /** Workers that replaced the old ones. */
  workersReplaced: number;
  /** True when the master itself was replaced (another pid), as a re-executing server may do. */
  masterReplaced: boolean;
  /** Signal to the new workers being ready, milliseconds. */
  reloadMs: number;
  /** Total PSS of the tree before the reload and after it (warmed and settled again). */
  totalPssBeforeBytes: number;
  totalPssAfterBytes: number;
}

/** The throughput phase's settings (`throughput` in the scenario, --throughput-duration, --throughput-connections). */
export interface ThroughputSettings {
  durationSeconds: number;
  /** Connections kept busy; default: twice the workers, at least 8. */
  connections?: number;
}

/**
 * The throughput phase of a run: a closed loop of `connections` for a fixed time after the memory was
 * sampled. Through autocannon on kept-alive connections where the server keeps them and its answers carry
 * their length; else through memcompare's own lanes, a connection per request (as hey against a server
 * that closes each one).
 */
export interface ThroughputRecord {
  client: 'autocannon' | 'lanes';
  /** The server kept a connection open after an answer (HTTP keep-alive). */
  keepAlive: boolean;
  connections: number;
  /** How long the load ran, milliseconds. */
  durationMs: number;
  /** Requests answered in that time. */
  requests: number;
  sent: number;
  requestsPerSecond: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Response times of the answered requests, milliseconds. */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** memcompare's own CPU while it sent the load, percent of one core: the load generator shares the host with the server. */
  loadCpuPercent: number;
  /** The phase was interrupted before its time was up: its figures are not comparable. */
  cut?: boolean;
}

/** A variant's throughput over its runs (runs whose phase was cut left out). */
export interface ThroughputSummary {
  runs: number;
  requestsPerSecond: Spread;
  latencyMs: { p50: Spread; p90: Spread; p99: Spread };
}

/**
 * A variant's throughput against its baseline's, run against run (the runs are interleaved): the ratio of
 * requests per second (geometric mean of the paired ratios) with its 95% interval (Student's t on the
 * logarithms; absent under 2 pairs), and the ratio of the median latencies.
 */
export interface ThroughputComparison {
  baseline: string;
  variant: string;
  pairs: number;
  ratio: number;
  low?: number;
  high?: number;
  p50Ratio: number;
  p99Ratio: number;
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
  /** The workers the run waited for, and where that number came from. */
  workerCount?: { count: number; source: WorkerCountSource };
  processes: ProcessRecord[];
  totals: SnapshotTotals;
  skipped: SkippedProcess[];
  warmup: WarmupResult;
  settle: SettleRecord;
  /** Where the memory is at the final sample: per group and top mappings, master and workers. */
  mappings?: MappingBreakdown;
  /** With a soak: load kept on after the warm-up, sampled; the run's figures are settled after it. */
  soak?: SoakRecord;
  /** With a scenario's `reload`: the reload measured after this run's sample. */
  reload?: ReloadRecord;
  /** A variant with `refork`: the first generation's total, right after the refork, and the new generation's (what the run measures). */
  refork?: ReforkRecord;
  /** The throughput phase, after the memory was sampled (absent with --no-throughput, or for a command's warm-up). */
  throughput?: ThroughputRecord;
  /** The memory cgroup the server ran in, at the final sample (absent without one). */
  container?: ContainerRecord;
  /** memcompare's own share of the tree's pages at the final sample, added back to the figures: how, and how much. */
  observer?: ObserverRecord;
  /** TCP connections (not listening sockets) that a worker holds open together with the master or another worker, at the final sample. */
  sharedConnections?: SharedConnection[];
  warnings: Warning[];
}

/** One TCP connection held by several processes of the tree: opened before the fork, inherited by each worker. */
export type SharedConnection = TcpConnectionShared<Role>;

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
  /** With a soak: the peak total PSS during the soak, over runs. */
  peakTotalPssBytes?: Spread;
  /** With a throughput phase: requests per second and latency over runs. */
  throughput?: ThroughputSummary;
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
  /** The server's interpreter and the versions of the main packages it can import (they move memory). */
  software?: SoftwareInfo;
}

export interface SoftwareInfo {
  /** e.g. "Python 3.11.2", "ruby 3.1.2", "node v20.20.2"; "" when not known. */
  interpreter: string;
  /** Package name → version, for the well-known web and numeric packages the interpreter has. */
  packages: Record<string, string>;
}

/** Which tree of the repository a variant was measured in (`run --baseline-ref`). */
export interface Revision {
  /** base: the baseline ref's worktree; head: the working tree. */
  role: 'base' | 'head';
  /** The ref as given (e.g. origin/main), or "working tree". */
  ref: string;
  /** Full commit id. */
  commit: string;
  /** The working tree had uncommitted changes (head only). */
  dirty: boolean;
}

export interface VariantResult {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** With `run --baseline-ref`: the revision measured (base variants are named `<name>@base`). */
  revision?: Revision;
  /** With `sweep`: the scenario variant and worker count this point measures (named `<name>@<n>w`). */
  point?: { variant: string; workers: number };
  /** This variant's server family, when it is not the scenario's (one server against another). */
  server?: string;
  runs: RunRecord[];
  /** With `run --imports`: one more boot of the variant with the import probe, after its measured runs. */
  imports?: ImportsRecord;
  /**
   * With `run --imports`, a variant added to verify the advice: `from` again, with a sitecustomize that imports
   * `modules` in the server's first interpreter before the fork; what it `imported`, and what `failed` (with why).
   */
  earlyImports?: { from: string; modules: string[]; imported: string[]; failed: { module: string; error: string }[] };
}

/** A least-squares line y = fixed + perWorker × workers, in bytes. */
export interface LineFit {
  fixedBytes: number;
  perWorkerBytes: number;
  /** Coefficient of determination over every run's point. */
  r2: number;
}

/** One worker count of one variant in a sweep. */
export interface SweepPoint {
  workers: number;
  /** Per run, bytes. */
  totalPssBytes: number[];
  totalUssBytes: number[];
  totalRssBytes: number[];
  /** Mean over a run's workers, per run. */
  workerPssBytes: number[];
  workerRssBytes: number[];
  /** (median total PSS − fitted) / fitted, percent. */
  residualPercent: number;
}

export interface SweepVariant {
  name: string;
  /** Total PSS = fixedBytes + perWorkerBytes × workers. */
  fixedBytes: number;
  perWorkerBytes: number;
  r2: number;
  /** The same fit of total USS. */
  uss: LineFit;
  points: SweepPoint[];
  /** With --budget: the budget, and the largest worker count whose predicted total PSS fits in it. */
  budgetBytes?: number;
  maxWorkers?: number;
  /** What the rules of thumb say: budget ÷ RSS of one worker, budget ÷ PSS of one worker (at the largest count). */
  maxWorkersByRssRule?: number;
  maxWorkersByPssRule?: number;
  /** With a soak over several routes: the worst transient peak a worker reached, and its route; maxWorkers leaves each worker room for it. */
  transientPeak?: { bytes: number; path: string };
}

/** `memcompare sweep`: every variant at every worker count, and the line through the points. */
export interface SweepResult {
  workerCounts: number[];
  variants: SweepVariant[];
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
    /** With a soak: its settings. */
    soak?: SoakSettings;
    /** With a throughput phase: its settings. */
    throughput?: ThroughputSettings;
    file?: string;
  };
  host: HostInfo;
  variants: VariantResult[];
  summary: { variants: VariantSummary[]; comparisons: Comparison[]; throughput?: ThroughputComparison[] };
  /** With `memcompare sweep`: the fit per variant. */
  sweep?: SweepResult;
  /** With `run --verify`: a second soak of each variant with the advised recycling setting applied. */
  verification?: VerificationRecord[];
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
    ...(p.observer ? { observerPssBytes: p.observer.pssBytes, observerUssBytes: p.observer.ussBytes } : {}),
    ...(p.fields?.Private_Dirty !== undefined ? { privateDirtyBytes: p.fields.Private_Dirty } : {}),
  };
}
