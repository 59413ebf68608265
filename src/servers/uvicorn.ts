import { readArgv } from '../proc/process.js';
import { count, flagValue, loopbackPort } from './config.js';
import { PYTHON_IMPORT_PROBE, runs, type ServerFamily } from './family.js';

/** A process's command line, or '' once it is gone. */
const cmdline = (pid: number): string => (readArgv(pid) ?? []).join(' ');

/**
 * uvicorn with --workers N (N > 1): a supervisor that starts each worker with multiprocessing's
 * spawn, a fresh interpreter (`python3 -c "from multiprocessing.spawn import spawn_main; …"`) that
 * imports the app itself, so nothing the supervisor imported is shared. multiprocessing also starts a
 * resource tracker beside them: a child of the supervisor that is not a worker. INT and TERM both stop
 * it (each worker gets TERM and finishes its requests; the supervisor joins them). It has no reload
 * signal (HUP's default action ends the supervisor) and, in Debian's 0.17, does not replace a worker
 * that exits.
 */
export const uvicorn: ServerFamily = {
  name: 'uvicorn',
  names: ['uvicorn'],
  recognise: (argv) => runs(argv, /^uvicorn$/) || argv.some((a, i) => a === '-m' && argv[i + 1] === 'uvicorn'),
  /** --workers, then $UVICORN_WORKERS, then $WEB_CONCURRENCY; one worker (or none given) is a single process: detect. */
  workersFromCommand(argv, env) {
    const n = count(flagValue(argv, [], ['--workers']) ?? env.UVICORN_WORKERS ?? env.WEB_CONCURRENCY);
    return n !== undefined && n > 1 ? n : undefined;
  },
  roleOf(pid, ppid, root) {
    if (pid === root) return 'master';
    // Before its exec a spawned child still shows the supervisor's command line: not yet a worker.
    return ppid === root && cmdline(pid).includes('multiprocessing.spawn') ? 'worker' : 'other';
  },
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  // Each worker closes its connections and waits for the requests in flight; uvicorn sets no bound of its own.
  gracefulStop: { signal: 'SIGTERM', boundMs: 10_000 },
  log: {},
  /** --port N (uvicorn binds 127.0.0.1 unless --host says otherwise). */
  portFromCommand: (argv) => loopbackPort(flagValue(argv, [], ['--port'])),
  versionCommand: ['uvicorn', '--version'],
  packages: { python: ['uvicorn'] },
  workerSetting: {
    text: (n) => `--workers ${n} (or UVICORN_WORKERS=${n}, or WEB_CONCURRENCY=${n})`,
    args: (n) => ['--workers', String(n)],
  },
  importProbe: {
    method: `${PYTHON_IMPORT_PROBE}; each worker is spawned and imports the app itself`,
    preloaded: () => false,
  },
  none: {
    connectAfterFork: 'each worker is spawned and imports the app itself: nothing is opened before a fork',
    errorLogFromCommand: 'uvicorn prints its log on its output',
    memoryRecycling: 'uvicorn 0.17 has no memory threshold (nor request-count recycling)',
    exitRemedy: 'workers are spawned, not forked: they share no heap with the supervisor to copy at exit',
    reloadSignal: 'uvicorn has no reload signal for --workers (HUP ends the supervisor); --reload watches files, for development',
    recycling:
      "--limit-max-requests ends a worker and uvicorn 0.17's supervisor does not start another; to recycle, run uvicorn's worker class under a server that has a max-requests setting",
    socketFromCommand: '--uds is not measured (load goes to loopback TCP)',
    configTestCommand: 'uvicorn has no configuration test',
    protocol: 'speaks HTTP',
    poolNotFixed: 'the pool is fixed at --workers',
  },
};
