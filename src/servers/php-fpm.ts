import { resolve } from 'node:path';
import { count, flagValue, iniValue, loopbackPort, readConfig } from './config.js';
import { directChildren, type ServerFamily } from './family.js';

/** The pool configuration php-fpm reads: -y/--fpm-config FILE (relative to its working directory). */
const poolFile = (argv: readonly string[], cwd: string) => readConfig(flagValue(argv, ['-y'], ['--fpm-config']), cwd);
const listenOf = (argv: readonly string[], cwd: string) => {
  const text = poolFile(argv, cwd);
  return text === undefined ? undefined : iniValue(text, 'listen');
};
/** The pool's process manager (static, dynamic, ondemand), when a configuration names it. */
const managerOf = (argv: readonly string[], cwd: string) => {
  const text = poolFile(argv, cwd);
  return text === undefined ? undefined : (iniValue(text, 'pm') ?? 'dynamic');
};

/**
 * php-fpm: a master and its pool's children, spoken to in FastCGI (protocols/fastcgi/). INT and
 * TERM stop it at once, QUIT gracefully; USR2 reloads (re-reads its configuration and replaces every
 * child). Its pool's size and listen address live in its -y configuration, and `php-fpm --test`
 * checks that file without starting the pool.
 */
export const phpFpm: ServerFamily = {
  name: 'php-fpm',
  names: ['php-fpm', 'fpm'],
  recognise: (argv) => /^php-fpm/.test(argv[0]?.split('/').pop() ?? ''),
  /** `pm.max_children` of a `pm = static` pool; undefined (detect) for a dynamic or ondemand pool, or an unreadable file. */
  workersFromCommand(argv, _env, cwd) {
    const text = poolFile(argv, cwd);
    if (text === undefined || managerOf(argv, cwd) !== 'static') return undefined;
    return count(iniValue(text, 'pm.max_children'));
  },
  roleOf: directChildren,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  // QUIT waits for each child's request, up to process_control_timeout (0: unbounded; 10 s here).
  gracefulStop: { signal: 'SIGQUIT', boundMs: 10_000 },
  reloadSignal: 'SIGUSR2',
  log: {},
  /** `listen` when it is a loopback TCP address ("127.0.0.1:9000", "9000"). */
  portFromCommand: (argv, cwd) => {
    const listen = listenOf(argv, cwd);
    return listen !== undefined && /^(?:(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]):)?\d+$/.test(listen) ? loopbackPort(listen) : undefined;
  },
  /** `listen` when it is a Unix socket (a path), resolved against the working directory. */
  socketFromCommand(argv, cwd) {
    const listen = listenOf(argv, cwd);
    return listen?.startsWith('/') || listen?.startsWith('.') ? resolve(cwd, listen) : undefined;
  },
  /** The pool file's `error_log` when it is a file of its own (an absolute path; syslog is not a file). */
  errorLogFromCommand(argv, cwd) {
    const text = poolFile(argv, cwd);
    const log = text === undefined ? undefined : iniValue(text, 'error_log');
    return log?.startsWith('/') && !log.startsWith('/proc/self/fd/') && !log.startsWith('/dev/') ? log : undefined;
  },
  configTestCommand: (argv) => [...argv, '--test'],
  versionCommand: ['php-fpm8.2', '-v'],
  packages: {},
  // Its pool is spoken to without a web server in front (protocols/fastcgi/).
  protocol: 'fastcgi',
  workerSetting: { text: (n) => `pm.max_children = ${n}`, noArgs: 'the pool size lives in the -y pool file' },
  recycling: { text: (n) => `pm.max_requests = ${n}`, noArgs: 'pm.max_requests lives in the -y pool file' },
  poolNotFixed(argv, cwd) {
    const pm = managerOf(argv, cwd);
    return pm !== undefined && pm !== 'static' ? { how: `pm = ${pm}`, fix: (n) => `pm = static with pm.max_children = ${n}` } : undefined;
  },
  none: {
    importProbe: 'PHP compiles each script per request (into opcache): there is no import made before the fork to attribute',
    connectAfterFork: 'PHP opens connections in the request, in each worker; the master runs no PHP code',
    memoryRecycling: 'php-fpm has no memory threshold: pm.max_requests only (memory_limit bounds a request, not a child)',
    exitRemedy: "not measured: a PHP child shares no interpreter heap with the master to copy (opcache's is shared memory)",
  },
};
