import { join } from 'node:path';
import { readArgv } from '../proc/process.js';
import type { Role } from '../results/types.js';
import { count, flagValue, loopbackPort } from './config.js';
import { runs, type ServerFamily } from './family.js';

/**
 * A process's part in a Passenger Standalone tree, from the title it gives itself (6.0): the watchdog (its
 * supervisor: the master), the core (the web server), `Passenger AppPreloader: DIR` (smart spawning: loads the
 * app once and forks the application processes) and `Passenger RubyApp: DIR` (an application process: a worker;
 * `PythonApp`, `NodeApp` for other languages). The launched `passenger start` (it tails the log), the log's tail,
 * the temp-dir toucher it daemonizes and memcompare's subreaper are other processes. A worker is found at any
 * depth: smart workers are the preloader's children, direct ones the core's.
 */
export function passengerRole(pid: number, _ppid: number, _root: number, read = { argv: readArgv }): Role {
  const title = (read.argv(pid) ?? []).join(' ');
  if (/^Passenger watchdog\b/.test(title)) return 'master';
  if (/^Passenger \w*App: /.test(title)) return 'worker';
  return 'other';
}

/**
 * Passenger's own processes, as passenger-memory-stats lists them: those titled `Passenger …` and its agents
 * (`PassengerAgent temp-dir-toucher`). `passenger start` in the foreground (it tails the log, a shell and a
 * `tail`) is a launcher, gone with `--daemonize`: not measured.
 */
export function isPassengerProcess(pid: number, read = { argv: readArgv }): boolean {
  const argv = read.argv(pid) ?? [];
  return /^Passenger /.test(argv.join(' ')) || /(^|\/)PassengerAgent$/.test(argv[0] ?? '');
}

const minInstances = (argv: readonly string[]) => count(flagValue(argv, [], ['--min-instances']));
const poolSize = (argv: readonly string[]) => count(flagValue(argv, [], ['--max-pool-size']));

/**
 * Passenger Standalone (`passenger start`, Debian's 6.0.17, its builtin engine). Its watchdog daemonizes (its
 * parent becomes pid 1, in a session of its own) and starts the core, which spawns the application processes;
 * `passenger start` stays in the foreground, tails the log and stops it all on Ctrl-C (SIGINT). memcompare runs
 * it under a subreaper so the daemonized processes stay in the tree it measures and stops; the pid file and
 * the log go to memcompare's temporary folder (by default Passenger writes them into the app's), and the
 * update check and telemetry are turned off (both reach the internet).
 */
export const passenger: ServerFamily = {
  name: 'passenger',
  names: ['passenger'],
  recognise: (argv) => runs(argv, /^passenger$/) && argv.includes('start'),
  /** --min-instances (the processes spawned at the first request and kept), else --max-pool-size, else detect. */
  workersFromCommand: (argv) => minInstances(argv) ?? poolSize(argv),
  roleOf: passengerRole,
  isServerProcess: (pid) => isPassengerProcess(pid),
  // `passenger start` stops the watchdog, which stops the core and every application process.
  stopSignal: 'SIGINT',
  stopTimeoutMs: 15_000,
  gracefulStop: { signal: 'SIGINT', boundMs: 60_000 },
  log: {},
  daemonizes: 'its watchdog daemonizes (it leaves the launched process for pid 1, in a session of its own)',
  launchArgs(argv, dir) {
    const add: string[] = [];
    for (const flag of ['--disable-security-update-check', '--disable-anonymous-telemetry']) if (!argv.includes(flag)) add.push(flag);
    if (flagValue(argv, [], ['--pid-file']) === undefined) add.push('--pid-file', join(dir, 'passenger.pid'));
    if (flagValue(argv, [], ['--log-file']) === undefined) add.push('--log-file', join(dir, 'passenger.log'));
    return [...argv, ...add];
  },
  /** -p/--port, else Passenger's default, 3000. */
  portFromCommand: (argv) => loopbackPort(flagValue(argv, ['-p'], ['--port']) ?? '3000'),
  versionCommand: ['passenger', '--version'],
  packages: {},
  workerSetting: {
    text: (n) => `--min-instances ${n} --max-pool-size ${n}`,
    args: (n) => ['--min-instances', String(n), '--max-pool-size', String(n)],
  },
  recycling: { text: (n) => `--max-requests ${n}`, args: (n) => ['--max-requests', String(n)] },
  connectAfterFork: 'PhusionPassenger.on_event(:starting_worker_process) { |forked| reconnect if forked }',
  poolNotFixed(argv) {
    const min = minInstances(argv) ?? 1;
    const max = poolSize(argv) ?? 6;
    if (min === max) return undefined;
    return {
      how: `--min-instances ${min} --max-pool-size ${max} (Passenger spawns processes as load asks, up to the pool size)`,
      fix: (n) => `--min-instances ${n} --max-pool-size ${n}`,
    };
  },
  none: {
    reloadSignal: 'Passenger restarts an app with passenger-config restart-app, not a signal',
    socketFromCommand: '--socket is not measured (load goes to loopback TCP)',
    configTestCommand: 'Passenger Standalone has no configuration test',
    errorLogFromCommand: '`passenger start` prints its log on its output (it tails it)',
    protocol: 'speaks HTTP',
    memoryRecycling: "a memory limit per process is Passenger Enterprise's (passenger_memory_limit), not this edition's",
    exitRemedy: "not measured for Ruby workers (Ruby does not walk its heap at exit as Python's finalization does)",
    importProbe:
      "not instrumented: the application processes are the preloader's or the core's children, which the probe's reading does not follow yet",
  },
};
