import { PROTOCOL_FLAGS } from '../protocols/registry.js';
import { familyNames } from '../servers/registry.js';

/**
 * The flags of `run`, `report` and `check`, each declared once: yargs reads these tables for parsing
 * and help, and each command's typed options are derived from them (FlagValues). `snapshot`'s table is
 * in snapshot-options.ts, shared with its start-up fast path.
 */
interface FlagSpec {
  type: 'string' | 'number' | 'boolean';
  describe: string;
  /** yargs takes several; the snapshot fast path (parseArgs) only a one-letter string. */
  alias?: string | readonly string[];
  array?: boolean;
  nargs?: number;
  default?: unknown;
}

export const RUN_FLAGS = {
  command: {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: 'Ad-hoc variant: a server command with {port} (repeat to compare)',
  },
  name: { type: 'string', array: true, default: [] as string[], describe: 'Name of each --command variant' },
  cwd: { type: 'string', describe: 'Working directory of --command servers' },
  workers: {
    type: 'number',
    describe:
      "Expected workers; fills {workers}. Default: the scenario's, else read from each command as its server reads it (-w 3), else detected",
  },
  server: { type: 'string', describe: `Server family of --command (${familyNames().join(', ')}); guessed from the command` },
  port: { type: 'number', describe: 'Use this loopback port instead of a free one (for commands without {port})' },
  // Each warm-up protocol's own flags (protocols/).
  ...PROTOCOL_FLAGS,
  runs: { type: 'number', describe: "Runs per variant, interleaved (default: the scenario's, 3)" },
  soak: {
    type: 'number',
    describe: 'After the warm-up, keep load on for this many seconds while sampling the tree (peak, timeline, copy-on-write erosion)',
  },
  verify: {
    type: 'boolean',
    default: false,
    describe:
      "With --max-worker-uss: soak each variant again with the advised setting applied and show every worker's peak USS against the limit",
  },
  'warmup-until': {
    type: 'string',
    nargs: 1,
    describe:
      "steady (default): rounds of growing size until the workers' memory grows less than 1 KiB per request (bounded); count: a fixed number of requests",
  },
  'warmup-requests': {
    type: 'number',
    describe: 'A fixed warm-up of this many requests (the article: 30); with --warmup-until steady, the size of its first round',
  },
  'max-cpu': { type: 'number', describe: "The sampler's CPU budget during a soak, percent of one core (default 10)" },
  path: {
    type: 'string',
    array: true,
    describe:
      'A route of the app (repeat for several; PATH:WEIGHT gives its share, /report:3): the warm-up covers each, the soak sends them in turn and fits growth and transient peaks per route',
  },
  'throughput-duration': {
    type: 'number',
    describe: 'Seconds of the throughput phase: requests/s and latency under a closed loop, after the memory is sampled (default 3)',
  },
  'throughput-connections': {
    type: 'number',
    describe: 'Connections the throughput phase keeps busy (default: twice the workers, at least 8); the same for every variant',
  },
  'no-throughput': { type: 'boolean', default: false, describe: 'Skip the throughput phase: memory only' },
  refork: {
    type: 'boolean',
    default: false,
    describe:
      'Also measure each variant whose server can fork its workers anew from a warm one (a fork_worker server) after such a refork: a variant NAME+refork, its new generation warmed again to the same depth',
  },
  imports: {
    type: 'boolean',
    default: false,
    describe:
      'After the measured runs, one more boot per variant with an import probe: what the master imported before the fork, what each worker imported after it, and what importing that before the fork would save',
  },
  'max-worker-uss': {
    type: 'string',
    nargs: 1,
    describe:
      "With --soak: a per-worker memory limit (e.g. 200MiB); the advice names the server's recycling setting that keeps every worker's USS under it",
  },
  'baseline-ref': {
    type: 'string',
    nargs: 1,
    describe:
      'Also measure every variant at this git ref (a temporary worktree of the repository holding the scenario), interleaved with the working tree',
  },
  'until-decided': {
    type: 'number',
    describe:
      "With --baseline-ref: after the planned runs, add interleaved rounds until check's default gate decides every row (regression or pass), at most this many runs per variant",
  },
  json: { type: 'string', nargs: 1, describe: 'Write the results document here after every run (- for stdout)' },
  markdown: { type: 'string', nargs: 1, describe: 'Also write a Markdown report here (charts as SVG files beside it)' },
  html: { type: 'string', nargs: 1, describe: 'Also write the HTML report here: one offline file, interactive charts (report -f html)' },
  'show-output': { type: 'boolean', default: false, describe: "Copy the server's output to stderr" },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines' },
  verbose: {
    alias: 'v',
    type: 'boolean',
    default: false,
    describe: "Also print each variant's warm-up (load generator summary), process table, cgroup note and where the memory is",
  },
  progress: { type: 'boolean', default: false, describe: 'Progress lines on stderr even when it is not a terminal' },
  'no-wait': {
    type: 'boolean',
    default: false,
    describe: 'If another memcompare run is measuring on this host, fail (exit 2) instead of waiting',
  },
  'no-lock': { type: 'boolean', default: false, describe: 'Measure without the host lock (runs on one host lower each other’s PSS)' },
} as const satisfies Record<string, FlagSpec>;

/** `sweep`: run's flags, with --workers a list and a memory budget. */
export const SWEEP_FLAGS = {
  command: RUN_FLAGS.command,
  name: RUN_FLAGS.name,
  cwd: RUN_FLAGS.cwd,
  workers: { type: 'string', describe: 'Worker counts to measure, increasing, e.g. 1,2,4,8 (each fills {workers})' },
  budget: {
    type: 'string',
    describe: 'A memory budget, e.g. 2GiB or 1536MiB: how many workers fit, by the fit and by the RSS and PSS rules',
  },
  server: RUN_FLAGS.server,
  ...PROTOCOL_FLAGS,
  runs: { type: 'number', describe: "Runs per variant and count, interleaved (default: the scenario's, 3)" },
  json: RUN_FLAGS.json,
  markdown: RUN_FLAGS.markdown,
  html: RUN_FLAGS.html,
  'show-output': RUN_FLAGS['show-output'],
  quiet: RUN_FLAGS.quiet,
  progress: RUN_FLAGS.progress,
  'no-wait': RUN_FLAGS['no-wait'],
  'no-lock': RUN_FLAGS['no-lock'],
} as const satisfies Record<string, FlagSpec>;

/** `calibrate`: run's scenario flags, the A/A design, and check's gate settings to judge it by. */
export const CALIBRATE_FLAGS = {
  command: RUN_FLAGS.command,
  name: RUN_FLAGS.name,
  cwd: RUN_FLAGS.cwd,
  workers: RUN_FLAGS.workers,
  server: RUN_FLAGS.server,
  ...PROTOCOL_FLAGS,
  pairs: { type: 'number', describe: 'A/A comparisons to make (default 20)' },
  from: {
    type: 'string',
    nargs: 1,
    describe: 'Judge the runs of an earlier calibrate --json document again (other --limit, --floor, --runs) instead of measuring',
  },
  runs: { type: 'number', describe: 'Runs per side in each comparison, as the gate would get them (default 5)' },
  metric: { alias: 'm', type: 'string', describe: 'pss, uss, rss; comma-separated (default pss), as check takes them' },
  scope: { type: 'string', describe: 'worker, master, total, peak; comma-separated (default all), as check takes them' },
  limit: { type: 'number', describe: "The gate's --limit to judge the comparisons by (default 0.5)" },
  floor: { type: 'string', describe: "The gate's --floor to judge the comparisons by (default 256KiB)" },
  alpha: { type: 'number', describe: "The gate's --alpha to judge the comparisons by (default 0.05)" },
  json: RUN_FLAGS.json,
  'show-output': RUN_FLAGS['show-output'],
  quiet: RUN_FLAGS.quiet,
  progress: RUN_FLAGS.progress,
  'no-wait': RUN_FLAGS['no-wait'],
  'no-lock': RUN_FLAGS['no-lock'],
} as const satisfies Record<string, FlagSpec>;

/** `watch`: snapshot's selectors, an interval, a count, a CPU budget. */
export const IMPORTS_FLAGS = {
  cwd: { type: 'string', describe: 'Working directory of the command' },
  threshold: { type: 'number', describe: 'Leave out imports that added less than this many MiB (default 0.3)' },
  timeout: {
    type: 'number',
    describe: 'Stop the command after this many seconds (default 60): a server never ends by itself; what it imported by then is shown',
  },
  json: { type: 'string', describe: 'Also write the trees to this file as JSON' },
} as const satisfies Record<string, FlagSpec>;

export const WATCH_FLAGS = {
  pid: { alias: 'p', type: 'string', array: true, describe: 'Process ids, comma-separated or repeated' },
  tree: { type: 'boolean', default: false, describe: 'With --pid: include all descendants' },
  match: { alias: 'P', type: 'string', describe: 'Regex searched in the command line or process name (smem -P)' },
  user: { alias: 'U', type: 'string', describe: 'Only processes of this user name or uid' },
  interval: { alias: 'n', type: 'number', describe: 'Seconds between samples, fractions allowed (default 1)' },
  count: { type: 'number', describe: 'Stop after this many samples (default: until Ctrl-C)' },
  json: { type: 'boolean', default: false, describe: 'One JSON line per sample (NDJSON), also the default when stdout is not a terminal' },
  abbreviate: { alias: 'k', type: 'boolean', default: false, describe: 'Units (K, M, G) in the table instead of kB' },
  'max-cpu': { type: 'number', describe: "The sampler's CPU budget, percent of one core (default 10); the interval stretches to keep it" },
  listen: {
    type: 'string',
    nargs: 1,
    describe:
      'Serve Prometheus metrics at http://HOST:PORT/metrics (PORT alone: 127.0.0.1); scrapes read the last sample, never /proc. Keeps serving after the tree is gone',
  },
} as const satisfies Record<string, FlagSpec>;

export const REPORT_FLAGS = {
  format: {
    alias: 'f',
    type: 'string',
    default: 'markdown',
    describe: 'markdown, html (one offline file, interactive charts), json, table, csv, gab (github-action-benchmark), bmf (Bencher)',
  },
  out: { alias: 'o', type: 'string', nargs: 1, describe: 'Output file (default or -: stdout); charts go beside it' },
} as const satisfies Record<string, FlagSpec>;

export const CHECK_FLAGS = {
  baseline: {
    alias: 'b',
    type: 'string',
    describe: 'Results to compare against; without it, CURRENT must come from run --baseline-ref (head against base)',
  },
  'allow-host-change': {
    type: 'boolean',
    default: false,
    describe: 'Compare with a baseline measured on another kernel, distribution, core count or software',
  },
  metric: {
    alias: ['m', 'metrics'],
    type: 'string',
    describe: "pss, uss, rss, throughput (the throughput phase's requests/s; a drop is the regression); comma-separated (default pss)",
  },
  'throughput-limit': {
    type: 'number',
    describe: "Practical threshold of the throughput row: a drop of this percent of the base's requests/s (default 5)",
  },
  scope: { type: 'string', describe: "worker, master, total, peak (a soak's peak total PSS); comma-separated (default all)" },
  limit: {
    type: 'number',
    describe: 'Practical threshold in percent of the base figure; the threshold is the larger of this and --floor (default 0.5)',
  },
  floor: { type: 'string', describe: 'Practical threshold in bytes, e.g. 256KiB or 2MiB (default 256KiB)' },
  alpha: {
    type: 'number',
    describe: "False-alarm level over all rows together (Holm's correction), and the intervals' one-sided level (default 0.05)",
  },
  unpaired: {
    type: 'boolean',
    default: false,
    describe: 'Compare a --baseline-ref document unpaired (Welch), as documents from separate runs are',
  },
  summary: { type: 'string', describe: 'Write a Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)' },
  'max-peak-fraction': {
    type: 'number',
    describe:
      "Also fail when a run's peak (the soak's peak total PSS, else the cgroup's peak) exceeds this fraction of its container's memory limit, e.g. 0.8",
  },
  json: { type: 'boolean', default: false, describe: 'Print the verdicts as JSON on stdout (the table goes to stderr)' },
} as const satisfies Record<string, FlagSpec>;

type Value<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { array: true }
    ? string[]
    : F extends { type: 'number' }
      ? number | undefined
      : F extends { default: string }
        ? string
        : string | undefined;

/** The typed values of a flag table, keyed by camelCase names. */
export type FlagValues<T> = { [K in keyof T as CamelCase<K & string>]: Value<T[K]> };
type CamelCase<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<CamelCase<B>>}` : S;

const camel = (k: string) => k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Reads a table's flags out of yargs's parsed arguments. */
export function flagValues<T extends Record<string, FlagSpec>>(table: T, args: Record<string, unknown>): FlagValues<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    // A single-valued flag given twice: the last one counts (yargs would hand over an array).
    const v = args[key];
    out[camel(key)] = !spec.array && Array.isArray(v) ? v.at(-1) : v;
  }
  return out as FlagValues<T>;
}

/**
 * The options of a `run` made by another command (sweep, calibrate): the values it gives for the flags it
 * shares with run, run's defaults for every other flag (as if absent from the command line).
 */
export function subRunOptions<T extends Record<string, unknown>>(
  given: T,
  own: Partial<FlagValues<typeof RUN_FLAGS>> = {},
): FlagValues<typeof RUN_FLAGS> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(RUN_FLAGS) as [string, FlagSpec][]) {
    const name = camel(key);
    out[name] = name in own ? own[name as keyof typeof own] : name in given ? given[name] : spec.default;
  }
  return out as FlagValues<typeof RUN_FLAGS>;
}
