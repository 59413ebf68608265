import { configCount, flagValue, lastMatch, loopbackPort, readConfig } from './config.js';
import { directChildren, RUBY_IMPORT_PROBE, runs, type ServerFamily } from './family.js';

const configFile = (argv: readonly string[]) => flagValue(argv, ['-c'], ['--config-file']);

/** Unicorn: preload_app in its config file. QUIT is its graceful stop, INT and TERM the quick one, HUP reloads. */
export const unicorn: ServerFamily = {
  name: 'unicorn',
  names: ['unicorn'],
  recognise: (argv) => runs(argv, /^unicorn$/),
  /** `worker_processes N` in its -c config, else 1; an expression (ENV[…]) is detected. */
  workersFromCommand(argv, _env, cwd) {
    const file = configFile(argv);
    if (!file) return 1;
    const config = configCount(file, cwd, /^\s*worker_processes\b\s*\(?\s*(.*?)\s*\)?\s*(#.*)?$/);
    return config.present ? config.value : 1;
  },
  roleOf: directChildren,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  // QUIT lets each worker finish its request; the master waits up to `timeout` (60 s by default).
  gracefulStop: { signal: 'SIGQUIT', boundMs: 60_000 },
  reloadSignal: 'SIGHUP',
  log: {},
  /** -l/--listen, else `listen "…"` or `listen N` in its -c config. */
  portFromCommand(argv, cwd) {
    const flag = flagValue(argv, ['-l'], ['--listen']);
    if (flag !== undefined) return loopbackPort(flag);
    return loopbackPort(lastMatch(readConfig(configFile(argv), cwd), /^\s*listen\s*\(?\s*["']?([^"',\s)]+)["']?/));
  },
  versionCommand: ['unicorn', '--version'],
  packages: { ruby: ['unicorn'] },
  workerSetting: { text: (n) => `worker_processes ${n}`, noArgs: 'worker_processes lives in the -c configuration file' },
  recycling: {
    text: (n) => `unicorn-worker-killer with max_requests ${n} (Unicorn has no setting of its own)`,
    noArgs: 'Unicorn has no recycling setting of its own: a gem in the app does it',
  },
  memoryRecycling: {
    text: (b) =>
      `use Unicorn::WorkerKiller::Oom, ${Math.floor(b * 0.9)}, ${Math.floor(b)} in config.ru (the unicorn-worker-killer gem: RSS bytes, a random threshold between the two)`,
    noArgs: 'the unicorn-worker-killer gem is configured in config.ru',
  },
  connectAfterFork: "Unicorn's after_fork do |server, worker| … end in the config file (-c); disconnect in before_fork",
  importProbe: {
    method: RUBY_IMPORT_PROBE,
    // `preload_app true` in its -c file; an expression (ENV[…]) cannot be read without running it.
    preloaded: (argv, cwd) => {
      const value = lastMatch(readConfig(configFile(argv), cwd), /^\s*preload_app\b\s*\(?\s*(.*?)\s*\)?\s*(#.*)?$/);
      return value === undefined || value === 'false' ? false : value === 'true' ? true : undefined;
    },
  },
  none: {
    errorLogFromCommand: 'Unicorn prints its errors on stderr unless stderr_path names a file (not read)',
    exitRemedy: "not measured for Ruby workers (Ruby does not walk its heap at exit as Python's finalization does)",
    socketFromCommand: 'a Unix socket listener is not measured (load goes to loopback TCP)',
    configTestCommand: 'Unicorn has no configuration test',
    protocol: 'speaks HTTP',
    poolNotFixed: 'the pool is fixed at worker_processes (TTIN/TTOU change it only by signal)',
  },
};
