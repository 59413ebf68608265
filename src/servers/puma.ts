import { readArgv } from '../proc/process.js';
import { readStat } from '../proc/stat.js';
import type { Role } from '../results/types.js';
import { configCount, count, flagValue, lastMatch, loopbackPort, readConfig } from './config.js';
import { directChildren, RUBY_IMPORT_PROBE, runs, type ServerFamily } from './family.js';

const configFile = (argv: readonly string[]) => flagValue(argv, ['-C'], ['--config']);

/**
 * A process's part in a Puma tree. With `--fork-worker` (fork_worker in its config), worker 0 loads the app
 * and forks the others: they are the master's grandchildren, children of worker 0, and each titles itself
 * `puma: cluster worker N: MASTERPID [app]` (Puma 5.6). A child of the master, or a cluster worker whose
 * parent is a child of the master, is a worker; anything else (a process the app starts) is not.
 */
export function pumaRole(pid: number, ppid: number, root: number, read = { stat: readStat, argv: readArgv }): Role {
  const direct = directChildren(pid, ppid, root);
  if (direct !== 'other') return direct;
  if (read.stat(ppid)?.ppid !== root) return 'other';
  return /^puma: cluster worker \d+:/.test((read.argv(pid) ?? []).join(' ')) ? 'worker' : 'other';
}

/**
 * Puma in cluster mode (-w N), --preload to load the app first. TERM and INT stop it; USR1 (phased
 * restart) is refused with --preload, USR2 (hot restart: the master re-executes) always works.
 */
export const puma: ServerFamily = {
  name: 'puma',
  names: ['puma'],
  recognise: (argv) => runs(argv, /^puma$/),
  /** -w/--workers, `workers N` in its -C config, $WEB_CONCURRENCY, else undefined (single mode, or detect). */
  workersFromCommand(argv, env, cwd) {
    const v = flagValue(argv, ['-w'], ['--workers']);
    if (v !== undefined) return count(v);
    const config = configCount(configFile(argv), cwd, /^\s*workers\s*\(?\s*(\d+)\s*\)?\s*(#.*)?$/);
    if (config.present) return config.value;
    return env.WEB_CONCURRENCY !== undefined ? count(env.WEB_CONCURRENCY) : undefined;
  },
  roleOf: pumaRole,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  // TERM waits for in-flight requests up to worker_shutdown_timeout (30 s by default).
  gracefulStop: { signal: 'SIGTERM', boundMs: 30_000 },
  reloadSignal: 'SIGUSR2',
  // With --fork-worker, worker 0 forks the others anew after its requests (a refork): Puma logs it as a phased
  // restart ("- Starting phased worker restart, phase: 1"), then each new worker "booted in 0.0s, phase: 1".
  log: { reforked: /- Worker \d+ \(PID: \d+\) booted in [\d.]+s, phase: [1-9]\d*/ },
  // cluster.rb: the automatic refork runs in phase 0 only; SIGURG to the master asks for one at any time.
  refork: {
    signal: 'SIGURG',
    enabled: (argv) => argv.some((a) => a === '--fork-worker' || a.startsWith('--fork-worker=')),
    enable: 'add --fork-worker to the command (worker 0 then forks the others)',
    schedule:
      'Puma reforks on its own once, when worker 0 has served --fork-worker=N requests (1,000 by default); SIGURG to the master (pumactl refork) forks them anew again',
  },
  /** -b/--bind or -p/--port, else `bind 'tcp://…'` or `port N` in its -C config. */
  portFromCommand(argv, cwd) {
    const bind = flagValue(argv, ['-b'], ['--bind']);
    if (bind !== undefined) return loopbackPort(bind);
    const port = flagValue(argv, ['-p'], ['--port']);
    if (port !== undefined) return loopbackPort(port);
    const config = readConfig(configFile(argv), cwd);
    const fromBind = lastMatch(config, /^\s*bind\s*\(?\s*["']([^"']+)["']/);
    if (fromBind !== undefined) return loopbackPort(fromBind);
    return loopbackPort(lastMatch(config, /^\s*port\s*\(?\s*["']?(\d+)["']?/));
  },
  versionCommand: ['puma', '--version'],
  packages: { ruby: ['puma'] },
  workerSetting: { text: (n) => `workers ${n}`, args: (n) => ['--workers', String(n)] },
  recycling: {
    text: (n) => `puma_worker_killer or a Rack middleware restarting a worker after ${n} requests (Puma has no setting of its own)`,
    noArgs: 'Puma has no recycling setting of its own: a gem or a Rack middleware in the app does it',
  },
  memoryRecycling: {
    // puma_worker_killer's `ram` is the whole cluster's (master and workers), in MB.
    text: (b, workers) =>
      `PumaWorkerKiller.config { |c| c.ram = ${Math.ceil((b * (workers + 1)) / 1048576)} } (the puma_worker_killer gem: the cluster's RSS in MB, the largest worker restarted above it)`,
    noArgs: 'the puma_worker_killer gem is configured in the app',
  },
  connectAfterFork: "Puma's on_worker_boot block in config/puma.rb; disconnect in before_fork",
  importProbe: {
    method: RUBY_IMPORT_PROBE,
    // --preload or preload_app! in its -C file (config/puma.rb when none is named, as Puma reads it).
    preloaded: (argv, cwd) =>
      argv.includes('--preload') || /^\s*preload_app!/m.test(readConfig(configFile(argv) ?? 'config/puma.rb', cwd) ?? ''),
  },
  none: {
    errorLogFromCommand: 'Puma prints its errors on its output unless stdout_redirect names a file (not read)',
    exitRemedy: "not measured for Ruby workers (Ruby does not walk its heap at exit as Python's finalization does)",
    socketFromCommand: 'a unix:// bind is not measured (load goes to loopback TCP)',
    configTestCommand: 'Puma has no configuration test',
    protocol: 'speaks HTTP',
    poolNotFixed: 'the cluster is fixed at workers N',
  },
};
