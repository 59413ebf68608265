import type { Role } from '../results/types.js';

export type { Role };

/** A setting in the server's own words, as text for a reader and (where the server takes it on its command line) as arguments. */
export interface Setting {
  text(n: number): string;
  /** The setting as command-line arguments, where the server takes it there. */
  args?(n: number): string[];
  /** Why there are no arguments (the setting lives in a configuration file, or the server has none of its own). */
  noArgs?: string;
}

/**
 * Everything memcompare knows about one server family, in one object: the engine, the warm-up, the
 * sizing and the lifetime advice ask it, and none of them names a family. A family module under
 * src/servers/ exports one of these and the registry lists it (CONTRIBUTING.md: "Adding a server family").
 * An optional field a family leaves out is named in `none` with the reason (test/unit/servers/families.test.ts).
 */
export interface ServerFamily {
  /** The family's name: the scenario's `server`, the results' `scenario.server`, `--server`. */
  name: string;
  /** The words that name it in text (lower case): only its own module and the registry may hold them. */
  names: readonly string[];
  /** Whether a command starts this family's server (for `--command` runs without `--server`). */
  recognise(argv: readonly string[]): boolean;
  /** Workers the command asks for, read as the server reads it (flags, environment, its configuration); undefined: detect them. */
  workersFromCommand(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): number | undefined;
  /** Role of a process in the tree rooted at the launched pid. */
  roleOf(pid: number, ppid: number, rootPid: number): Role;
  /**
   * Why the server's processes leave the launched one (a supervisor that daemonizes itself), when they do: it
   * is then launched under a subreaper (run/subreaper.ts), so every process stays in the tree memcompare
   * measures and stops, however memcompare ends.
   */
  daemonizes?: string;
  /**
   * The command as launched for one run: arguments the family adds (where the server writes its pid file and
   * log: `dir`, a temporary folder of the run, removed after it; never the app's folder).
   */
  launchArgs?(argv: readonly string[], dir: string): string[];
  /**
   * Whether a process of the launched tree is the server's, measured: a launcher that stays in the foreground
   * beside a daemonized server (it tails the log) is not, as the server's own tools do not list it. All are when absent.
   */
  isServerProcess?(pid: number): boolean;
  /** The signal that stops the server quickly (not a reload: one server reloads on TERM). */
  stopSignal: NodeJS.Signals;
  /** How long the stop signal gets before the whole process group is killed. */
  stopTimeoutMs: number;
  /** The server's graceful stop (finish what is in flight, then exit) and its own bound on it: for a reader and a user's runbook; memcompare stops with `stopSignal`. */
  gracefulStop: { signal: NodeJS.Signals; boundMs: number };
  /** The signal that makes the server reload its app (new workers). */
  reloadSignal?: NodeJS.Signals;
  /**
   * Lines of the server's log memcompare reads: `recycled` says it replaced a worker itself (its own
   * max-requests), and names the worker in a group `pid` where its line carries it (the exit watch then sets each
   * exit against its own line); `reforked`, one line a worker, that it replaced a worker by forking it anew from a
   * warm one (a fork_worker refork).
   */
  log: { recycled?: RegExp; reforked?: RegExp };
  /**
   * A server that can fork its workers anew from a warm one (a refork): the signal that asks its master for one,
   * whether a command runs in that mode, the fix when it does not, and when it reforks on its own (said beside a
   * refork measured in a soak).
   */
  refork?: { signal: NodeJS.Signals; enabled(argv: readonly string[]): boolean; enable: string; schedule: string };
  /** The loopback port when the command's flags or the server's own configuration fix it (read, never written). */
  portFromCommand?(argv: readonly string[], cwd: string): number | undefined;
  /** The Unix socket it listens on when its configuration names one (the warm-up goes there; no port is watched). */
  socketFromCommand?(argv: readonly string[], cwd: string): string | undefined;
  /**
   * The file the server writes its own errors to instead of its output (an absolute path, read from its
   * configuration), quoted when it dies at boot having printed nothing.
   */
  errorLogFromCommand?(argv: readonly string[], cwd: string): string | undefined;
  /** The command that checks its configuration without starting it, asked when the server dies at boot. */
  configTestCommand?(argv: readonly string[]): string[];
  /** A command that prints the server's version on stdout or stderr ([] when there is none to ask). */
  versionCommand: string[];
  /** The packages whose versions the results record beside the interpreter's (the server's own). */
  packages: { python?: string[]; ruby?: string[] };
  /** The warm-up protocol its server speaks when it is not HTTP: a name registered in protocols/registry.ts. */
  protocol?: string;
  /** The worker-count setting in the server's words, for `n` workers (sizing, sweep, budget). */
  workerSetting: Setting;
  /** The recycling setting (replace a worker after `n` requests), in the server's words. */
  recycling?: Setting;
  /**
   * The recycling setting that watches memory instead of requests (replace a worker above an RSS of
   * `rssBytes`), in the server's words; `workers` for a setting that counts the whole pool. `warning`:
   * what makes it unsafe beyond what every RSS threshold has (it counts shared pages, and copy-on-write
   * leaves RSS unchanged).
   */
  memoryRecycling?: {
    text(rssBytes: number, workers: number): string;
    args?(rssBytes: number): string[];
    noArgs?: string;
    warning?: string;
  };
  /**
   * A way to end a worker without the copy its exit makes (its finalization writes every page it still
   * shares with the master), where the server has a hook for it: `text` for the user's configuration,
   * `apply` the command with it applied for a round that measures it (files it needs written in `dir`;
   * the user's own files are read, never written).
   */
  exitRemedy?: { text: string; apply(argv: readonly string[], dir: string, cwd: string): string[] };
  /**
   * Where a worker opens its own connections after the fork, in the server's words (its post-fork hook):
   * the remedy for a connection a preloaded master opened at import and every worker inherited.
   */
  connectAfterFork?: string;
  /**
   * How `run --imports` instruments the server's interpreter (`method`, in words), and whether a command
   * loads the app in the master before the fork (`preloaded`; undefined when it cannot be told).
   */
  importProbe?: { method: string; preloaded?(argv: readonly string[], cwd: string): boolean | undefined };
  /** A pool that grows and shrinks with load: how it is set ("pm = dynamic") and how to fix it at `n`; undefined for a fixed pool. */
  poolNotFixed?(argv: readonly string[], cwd: string): { how: string; fix(n: number): string } | undefined;
  /** Why an optional field above is absent, by field name. */
  none: Partial<Record<OptionalField, string>>;
}

/** How each interpreter's imports are probed (run/import-probe.ts, run/ruby-probe.ts), in the families' `importProbe.method`. */
export const PYTHON_IMPORT_PROBE =
  'Python: a sitecustomize on PYTHONPATH wraps __import__ and reads /proc/self/smaps_rollup around each first import';
export const RUBY_IMPORT_PROBE =
  "Ruby: RUBYOPT=-r loads a hook on Kernel#require (RubyGems' included) that reads /proc/self/smaps_rollup around each first require; Ruby 3.1's fork hook marks the fork";

/** The fields a family may leave out, saying why in `none`. */
export const OPTIONAL_FIELDS = [
  'reloadSignal',
  'portFromCommand',
  'socketFromCommand',
  'configTestCommand',
  'errorLogFromCommand',
  'protocol',
  'recycling',
  'memoryRecycling',
  'exitRemedy',
  'poolNotFixed',
  'connectAfterFork',
  'importProbe',
] as const;
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];

/** Workers are the master's direct children; anything deeper is another process (a helper, a thread pool's child). */
export const directChildren = (pid: number, ppid: number, root: number): Role =>
  pid === root ? 'master' : ppid === root ? 'worker' : 'other';

/** The program a command runs, or one of its arguments (an interpreter's script), ends in `/name` or is `name`. */
export function runs(argv: readonly string[], pattern: RegExp): boolean {
  return argv.some((a) => pattern.test(a.split('/').pop() ?? ''));
}
