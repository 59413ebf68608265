import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configCount, count, flagValue, lastMatch, loopbackPort, readConfig } from './config.js';
import { directChildren, PYTHON_IMPORT_PROBE, type ServerFamily } from './family.js';

const configFile = (argv: readonly string[]) => flagValue(argv, ['-c'], ['--config']);

/** argv without its -c/--config option (both spellings, and the value that follows a bare flag). */
function withoutConfig(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-c' || a === '--config') i++;
    else if (!(a.startsWith('--config=') || (a.startsWith('-c') && !a.startsWith('--') && a.length > 2))) out.push(a);
  }
  return out;
}

/**
 * A config file that loads the user's own (their -c, else ./gunicorn.conf.py as gunicorn would) and then
 * ends every worker in worker_exit with an immediate _exit(0) from the os module, after the user's own worker_exit if any: the
 * interpreter's finalization, which writes every object still shared with the master, never runs.
 */
function exitHookConfig(user: string | undefined, cwd: string): string {
  const load = user?.startsWith('python:')
    ? `import importlib\nglobals().update({k: v for k, v in vars(importlib.import_module(${JSON.stringify(user.slice(7))})).items() if not k.startswith('__')})\n`
    : `_user = ${JSON.stringify(user ? resolve(cwd, user) : 'gunicorn.conf.py')}\nif ${user ? 'True' : 'os.path.exists(_user)'}:\n    with open(_user) as _f:\n        exec(compile(_f.read(), _user, 'exec'))\n`;
  return `# Written by memcompare for a round that measures the exit remedy; the user's config is loaded first.\nimport os\n${load}_user_worker_exit = globals().get('worker_exit')\n\n\ndef worker_exit(server, worker):\n    if _user_worker_exit:\n        _user_worker_exit(server, worker)\n    os._exit(0)\n`;
}

/**
 * gunicorn: a master (the arbiter) and its worker processes. INT and QUIT stop it at once; TERM is
 * its graceful stop (up to graceful_timeout, 30 s); HUP reloads (new workers, the app loaded anew
 * unless --preload). `--max-requests` recycles a worker, its log saying "Autorestarting worker".
 */
export const gunicorn: ServerFamily = {
  name: 'gunicorn',
  names: ['gunicorn'],
  recognise: (argv) => (argv[0]?.split('/').pop() ?? '').startsWith('gunicorn') || argv.some((a) => /(^|\/)gunicorn$/.test(a)),
  /** -w/--workers, then $GUNICORN_CMD_ARGS, then `workers = N` in its -c config, then $WEB_CONCURRENCY, else 1. */
  workersFromCommand(argv, env, cwd) {
    const fromArgs = flagValue(argv, ['-w'], ['--workers']);
    if (fromArgs !== undefined) return count(fromArgs);
    const fromEnvArgs = flagValue(env.GUNICORN_CMD_ARGS?.split(/\s+/) ?? [], ['-w'], ['--workers']);
    if (fromEnvArgs !== undefined) return count(fromEnvArgs);
    const config = configCount(configFile(argv), cwd, /^\s*workers\s*=\s*(.*?)\s*(#.*)?$/);
    if (config.present) return config.value;
    if (env.WEB_CONCURRENCY !== undefined) return count(env.WEB_CONCURRENCY);
    return 1;
  },
  roleOf: directChildren,
  stopSignal: 'SIGINT',
  // Preloaded Python workers take ~3 s to exit here (finalization writes every shared page).
  stopTimeoutMs: 10_000,
  gracefulStop: { signal: 'SIGTERM', boundMs: 30_000 },
  reloadSignal: 'SIGHUP',
  // The worker logs the line itself: its pid is the second bracket of gunicorn's error log format.
  log: { recycled: /(?:\[(?<pid>\d+)\] \[\w+\] )?Autorestarting worker/g },
  /** -b/--bind ADDRESS, else `bind = "…"` in its -c config. */
  portFromCommand(argv, cwd) {
    const flag = flagValue(argv, ['-b'], ['--bind']);
    if (flag !== undefined) return loopbackPort(flag);
    return loopbackPort(lastMatch(readConfig(configFile(argv), cwd), /^\s*bind\s*=\s*\[?\s*["']([^"']+)["']/));
  },
  versionCommand: ['gunicorn', '--version'],
  packages: { python: ['gunicorn'] },
  workerSetting: { text: (n) => `--workers ${n} (or WEB_CONCURRENCY=${n})`, args: (n) => ['--workers', String(n)] },
  // A tenth of jitter, so that the workers do not all restart at once.
  recycling: {
    text: (n) => `--max-requests ${Math.max(1, n - Math.floor(n / 10))} --max-requests-jitter ${Math.floor(n / 10)}`,
    args: (n) => ['--max-requests', String(Math.max(1, n - Math.floor(n / 10))), '--max-requests-jitter', String(Math.floor(n / 10))],
  },
  exitRemedy: {
    text: "end the worker in the config file's worker_exit hook: def worker_exit(server, worker): os._exit(0)",
    apply(argv, dir, cwd) {
      const file = join(dir, 'memcompare-exit-remedy.conf.py');
      writeFileSync(file, exitHookConfig(configFile(argv), cwd), { mode: 0o644 });
      return [...withoutConfig(argv), '--config', file];
    },
  },
  connectAfterFork:
    "gunicorn's post_fork(server, worker) hook in the config file (or open it at the first request); with --preload, close the master's copy in the hook too",
  importProbe: {
    method: PYTHON_IMPORT_PROBE,
    preloaded: (argv, cwd) => argv.includes('--preload') || /^\s*preload_app\s*=\s*True/m.test(readConfig(configFile(argv), cwd) ?? ''),
  },
  none: {
    errorLogFromCommand: 'gunicorn prints its errors on stderr unless --error-logfile names a file (not read)',
    memoryRecycling: 'gunicorn has no memory threshold of its own: --max-requests only',
    socketFromCommand: 'a unix: bind is not measured (load goes to loopback TCP); bind to 127.0.0.1',
    configTestCommand: '--check-config imports the app; a boot failure already prints the reason',
    protocol: 'speaks HTTP',
    poolNotFixed: 'the pool is fixed at --workers (TTIN/TTOU change it only by signal)',
  },
};
