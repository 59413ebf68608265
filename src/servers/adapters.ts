/**
 * What memcompare must know about a server family: how to stop it quickly, which of its processes
 * are workers, and how to ask its version. One adapter per family; the engine knows none of this.
 */
export type Role = 'master' | 'worker' | 'other';

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
}

// Workers are direct children of the master for the prefork servers known so far.
const directChildren = (pid: number, ppid: number, root: number): Role => (pid === root ? 'master' : ppid === root ? 'worker' : 'other');

export const gunicorn: ServerAdapter = {
  family: 'gunicorn',
  // TERM is graceful (up to graceful_timeout, 30 s); INT is gunicorn's quick shutdown. Preloaded
  // workers still take ~3 s to exit here (Python's finalization writes to every shared page).
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  roleOf: directChildren,
  versionCommand: ['gunicorn', '--version'],
};

/** uWSGI with --master: loads the app in the master by default (preloading); --lazy-apps loads it per worker. */
export const uwsgi: ServerAdapter = {
  family: 'uwsgi',
  // TERM makes the uWSGI master reload (brutally) unless --die-on-term; INT stops it. Workers with a
  // preloaded app take 3-4 s to be "buried" here.
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  roleOf: directChildren,
  versionCommand: ['uwsgi', '--version'],
};

/** Puma in cluster mode (-w N): the master forks the workers; --preload loads the app first. */
export const puma: ServerAdapter = {
  family: 'puma',
  // TERM and INT both stop Puma; USR2/USR1 restart it.
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  roleOf: directChildren,
  versionCommand: ['puma', '--version'],
};

/** Unicorn: preload_app in its config file decides whether the master loads the app. */
export const unicorn: ServerAdapter = {
  family: 'unicorn',
  // QUIT is Unicorn's graceful stop; INT and TERM are its quick one. HUP reloads.
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  roleOf: directChildren,
  versionCommand: ['unicorn', '--version'],
};

/** Any prefork server: workers are the launched process's children; INT stops it. */
export const generic: ServerAdapter = {
  family: 'generic',
  stopSignal: 'SIGINT',
  stopTimeoutMs: 5000,
  roleOf: directChildren,
  versionCommand: [],
};

export const ADAPTERS: Record<string, ServerAdapter> = { gunicorn, uwsgi, puma, unicorn, generic };

/** Guesses the family from a command (for ad-hoc --command runs). */
export function adapterForCommand(argv: string[]): ServerAdapter {
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  if (program.startsWith('gunicorn') || argv.some((a) => /(^|\/)gunicorn$/.test(a))) return gunicorn;
  if (program.startsWith('uwsgi') || argv.some((a) => /(^|\/)uwsgi(_python3)?$/.test(a))) return uwsgi;
  if (argv.some((a) => /(^|\/)puma$/.test(a))) return puma;
  if (argv.some((a) => /(^|\/)unicorn$/.test(a))) return unicorn;
  return generic;
}
