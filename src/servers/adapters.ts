/**
 * What memcompare must know about a server family: how to stop it quickly, which of its processes
 * are workers, and how to ask its version. One adapter per family; the engine knows none of this.
 */
import type { Role } from '../results/types.js';
import { apachePort, gunicornPort, pumaPort, unicornPort, uwsgiPort } from './ports.js';
import {
  apacheWorkers,
  celeryWorkers,
  gunicornWorkers,
  phpFpmManager,
  phpFpmPort,
  phpFpmWorkers,
  pumaWorkers,
  unicornWorkers,
  uwsgiWorkers,
} from './worker-count.js';

export type { Role };

export interface ServerAdapter {
  family: string;
  /** Signal that stops the server quickly (not a reload: uWSGI reloads on TERM). */
  stopSignal: NodeJS.Signals;
  /** How long the stop signal gets before the whole process group is killed. */
  stopTimeoutMs: number;
  /** Role of a process in the tree rooted at the launched pid. */
  roleOf(pid: number, ppid: number, rootPid: number): Role;
  /** A command that prints the server's version on stdout or stderr. */
  versionCommand: string[];
  /** The signal that makes the server reload its app (new workers). */
  reloadSignal: NodeJS.Signals;
  /** Workers the command asks for, read as the server reads it; undefined: detect them. */
  workersFromCommand(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): number | undefined;
  /** The loopback port a command listens on when its flags or its own configuration fix it (php-fpm's `listen`, Apache's `Listen`). */
  portFromCommand?(argv: readonly string[], cwd: string): number | undefined;
  /** How a pool that grows and shrinks with load is set ("pm = dynamic"); undefined for a fixed pool. */
  poolNotFixed?(argv: readonly string[], cwd: string): string | undefined;
  /** A line of the server's log that says it recycled a worker itself (gunicorn's max_requests). */
  recycleLog?: RegExp;
  /** What the warm-up speaks (default http). */
  protocol?: 'http' | 'fastcgi';
  /** The command that checks the server's configuration without starting it (apache2 -t, php-fpm -t), asked when it dies at boot. */
  configTestCommand?(argv: readonly string[]): string[];
}

// Workers are direct children of the master for the prefork servers known so far.
const directChildren = (pid: number, ppid: number, root: number): Role => (pid === root ? 'master' : ppid === root ? 'worker' : 'other');

/**
 * A prefork family whose quick stop is INT and whose workers are the master's children. The bound
 * is 10 s: preloaded Python workers take ~3 s to exit here (finalization writes every shared page).
 */
const prefork = (family: string, workersFromCommand: ServerAdapter['workersFromCommand']): ServerAdapter => ({
  family,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  roleOf: directChildren,
  versionCommand: [family, '--version'],
  reloadSignal: 'SIGHUP',
  workersFromCommand,
});

/** gunicorn: TERM is its graceful stop (up to graceful_timeout, 30 s); INT is the quick one. */
export const gunicorn: ServerAdapter = {
  ...prefork('gunicorn', gunicornWorkers),
  recycleLog: /Autorestarting worker/g,
  portFromCommand: gunicornPort,
};

/**
 * uWSGI with --master: loads the app in the master by default (preloading); --lazy-apps per worker.
 * TERM makes the master reload (brutally) unless --die-on-term: INT stops it.
 */
export const uwsgi: ServerAdapter = {
  ...prefork('uwsgi', uwsgiWorkers),
  recycleLog: /\.\.\.The work of process \d+ is done/g,
  portFromCommand: (argv, cwd) => uwsgiPort(argv, cwd),
};

/** Puma in cluster mode (-w N), --preload to load the app first. TERM and INT stop it; USR1/USR2 restart. */
// USR1 (phased restart) is refused with --preload; USR2 (hot restart: the master re-executes) always works.
export const puma: ServerAdapter = { ...prefork('puma', pumaWorkers), reloadSignal: 'SIGUSR2', portFromCommand: pumaPort };

/** Unicorn: preload_app in its config file. QUIT is its graceful stop, INT and TERM the quick one, HUP reloads. */
export const unicorn: ServerAdapter = {
  ...prefork('unicorn', (argv, _env, cwd) => unicornWorkers(argv, cwd)),
  portFromCommand: unicornPort,
};

/** Any prefork server: workers are the launched process's children; INT stops it. */
export const generic: ServerAdapter = { ...prefork('generic', () => undefined), stopTimeoutMs: 5000, versionCommand: [] };

/**
 * php-fpm: a master and its pool's children, spoken to in FastCGI. INT and TERM stop it at once,
 * QUIT gracefully; USR2 reloads (re-reads its configuration and replaces every child).
 */
export const phpFpm: ServerAdapter = {
  ...prefork('php-fpm', (argv, _env, cwd) => phpFpmWorkers(argv, cwd)),
  versionCommand: ['php-fpm8.2', '-v'],
  reloadSignal: 'SIGUSR2',
  configTestCommand: (argv) => [...argv, '--test'],
  portFromCommand: phpFpmPort,
  poolNotFixed: (argv, cwd) => {
    const pm = phpFpmManager(argv, cwd);
    return pm !== undefined && pm !== 'static' ? `pm = ${pm}` : undefined;
  },
  protocol: 'fastcgi',
};

/**
 * Apache httpd with the prefork MPM, run in the foreground (-DFOREGROUND): the parent and its
 * children. TERM stops it at once (WINCH gracefully), USR1 is the graceful restart.
 */
export const apache: ServerAdapter = {
  ...prefork('apache', (argv, _env, cwd) => apacheWorkers(argv, cwd)),
  stopSignal: 'SIGTERM',
  versionCommand: ['apache2', '-v'],
  reloadSignal: 'SIGUSR1',
  configTestCommand: (argv) => [...argv.filter((a) => a !== '-DFOREGROUND'), '-t'],
  portFromCommand: apachePort,
};

/**
 * Celery's prefork pool (`python3 -m celery -A app worker -P prefork -c N`): the MainProcess and its
 * ForkPoolWorker children. TERM is its warm shutdown (finishes the tasks it holds; an idle pool stops at
 * once), QUIT the cold one; HUP restarts it. Warmed by a command that sends tasks (no HTTP).
 */
export const celery: ServerAdapter = {
  ...prefork('celery', (argv) => celeryWorkers(argv)),
  stopSignal: 'SIGTERM',
  versionCommand: ['/usr/bin/python3', '-m', 'celery', '--version'],
};

export const ADAPTERS: Record<string, ServerAdapter> = { gunicorn, uwsgi, puma, unicorn, 'php-fpm': phpFpm, apache, celery, generic };

/** Guesses the family from a command (for ad-hoc --command runs). */
export function adapterForCommand(argv: string[]): ServerAdapter {
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  if (program.startsWith('gunicorn') || argv.some((a) => /(^|\/)gunicorn$/.test(a))) return gunicorn;
  if (program.startsWith('uwsgi') || argv.some((a) => /(^|\/)uwsgi(_python3)?$/.test(a))) return uwsgi;
  if (argv.some((a) => /(^|\/)puma$/.test(a))) return puma;
  if (argv.some((a) => /(^|\/)unicorn$/.test(a))) return unicorn;
  if (/^php-fpm/.test(program)) return phpFpm;
  if (argv.some((a) => /(^|\/)celery$/.test(a))) return celery;
  if (/^(apache2|httpd)$/.test(program)) return apache;
  return generic;
}
