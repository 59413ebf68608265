import { cpus } from 'node:os';
import { count, flagValue } from './config.js';
import { directChildren, PYTHON_IMPORT_PROBE, runs, type ServerFamily } from './family.js';

/**
 * Celery's prefork pool (`python3 -m celery -A app worker -P prefork -c N`): the MainProcess and its
 * ForkPoolWorker children. TERM is its warm shutdown (finishes the tasks it holds; an idle pool stops
 * at once), QUIT the cold one; HUP restarts it. Warmed by a command that sends tasks (no HTTP).
 */
export const celery: ServerFamily = {
  name: 'celery',
  names: ['celery'],
  recognise: (argv) => runs(argv, /^celery$/),
  /** -c/--concurrency, else the host's cores (as Celery counts them). */
  workersFromCommand(argv) {
    const v = flagValue(argv, ['-c'], ['--concurrency']);
    return v !== undefined ? count(v) : cpus().length;
  },
  roleOf: directChildren,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 10_000,
  gracefulStop: { signal: 'SIGTERM', boundMs: 10_000 },
  reloadSignal: 'SIGHUP',
  log: {},
  versionCommand: ['/usr/bin/python3', '-m', 'celery', '--version'],
  packages: { python: ['celery'] },
  workerSetting: { text: (n) => `--concurrency ${n}`, args: (n) => ['--concurrency', String(n)] },
  recycling: { text: (n) => `--max-tasks-per-child ${n}`, args: (n) => ['--max-tasks-per-child', String(n)] },
  memoryRecycling: {
    // KiB, against the child's ru_maxrss after each task. Celery #4125 (a forked child reporting its
    // parent's peak as its own) does not reproduce with Debian's Celery 5.2.6: children at 67.5 MB of
    // VmHWM under a parent at 85.0 MB, a 76,000 KiB threshold between them, 3 children served 30 tasks.
    text: (b) => `--max-memory-per-child ${Math.ceil(b / 1024)}`,
    args: (b) => ['--max-memory-per-child', String(Math.ceil(b / 1024))],
    warning: "a child's largest RSS so far is what Celery compares, after each task: a child past the threshold finishes its task first",
  },
  connectAfterFork: "Celery's worker_process_init signal (celery.signals.worker_process_init.connect)",
  importProbe: {
    method: PYTHON_IMPORT_PROBE,
    preloaded: () => true,
  },
  none: {
    errorLogFromCommand: 'Celery prints its log on its output unless --logfile names a file (not read)',
    exitRemedy: 'not measured: billiard ends its pool children itself',
    portFromCommand: 'a worker listens on no port: it takes tasks from its broker',
    socketFromCommand: 'a worker listens on no socket',
    configTestCommand: 'Celery has no configuration test',
    protocol: 'warmed by a command that sends tasks (warmup.command)',
    poolNotFixed: 'the autoscaler is not followed; the pool is --concurrency',
  },
};
