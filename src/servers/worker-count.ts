import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

/**
 * How many workers a command asks for, read the way the server reads it; undefined when it cannot
 * be known from the command (then memcompare detects the count). Each family's rules:
 * gunicorn: -w/--workers, then $GUNICORN_CMD_ARGS, $WEB_CONCURRENCY, `workers = N` in its -c config, default 1;
 * uWSGI: -p/--processes/--workers, default 1; Puma: -w/--workers, `workers N` in its -C config;
 * Unicorn: `worker_processes N` in its -c config, default 1.
 */
export function flagValue(argv: readonly string[], short: string[], long: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    for (const l of long) {
      if (a === l) found = argv[i + 1];
      else if (a.startsWith(`${l}=`)) found = a.slice(l.length + 1);
    }
    for (const s of short) {
      if (a === s) found = argv[i + 1];
      else if (a.startsWith(s) && a.length > s.length && !a.startsWith('--')) found = a.slice(s.length);
    }
  }
  return found;
}

const count = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : undefined);

function configValue(file: string | undefined, cwd: string, pattern: RegExp): { present: boolean; value: number | undefined } {
  if (!file) return { present: false, value: undefined };
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file.replace(/^python:/, '')), 'utf8');
  } catch {
    return { present: true, value: undefined };
  }
  const lines = text.split('\n').filter((l) => pattern.test(l));
  if (lines.length === 0) return { present: false, value: undefined };
  const m = pattern.exec(lines.at(-1) as string);
  return { present: true, value: count(m?.[1]) };
}

export function gunicornWorkers(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): number | undefined {
  const fromArgs = flagValue(argv, ['-w'], ['--workers']);
  if (fromArgs !== undefined) return count(fromArgs);
  const cmdArgs = env.GUNICORN_CMD_ARGS?.split(/\s+/) ?? [];
  const fromEnvArgs = flagValue(cmdArgs, ['-w'], ['--workers']);
  if (fromEnvArgs !== undefined) return count(fromEnvArgs);
  const config = configValue(flagValue(argv, ['-c'], ['--config']), cwd, /^\s*workers\s*=\s*(.*?)\s*(#.*)?$/);
  if (config.present) return config.value;
  if (env.WEB_CONCURRENCY !== undefined) return count(env.WEB_CONCURRENCY);
  return 1;
}

export function uwsgiWorkers(argv: readonly string[]): number | undefined {
  const v = flagValue(argv, ['-p'], ['--processes', '--workers']);
  if (v !== undefined) return count(v);
  // A config file (--ini, --yaml, …) may set it: detect instead.
  if (argv.some((a) => /^--(ini|yaml|yml|json|xml|config)\b/.test(a) || /\.(ini|ya?ml|json|xml)$/.test(a))) return undefined;
  return 1;
}

export function pumaWorkers(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): number | undefined {
  const v = flagValue(argv, ['-w'], ['--workers']);
  if (v !== undefined) return count(v);
  const config = configValue(flagValue(argv, ['-C'], ['--config']), cwd, /^\s*workers\s*\(?\s*(\d+)\s*\)?\s*(#.*)?$/);
  if (config.present) return config.value;
  return env.WEB_CONCURRENCY !== undefined ? count(env.WEB_CONCURRENCY) : undefined;
}

/** The pool configuration php-fpm reads: -y/--fpm-config FILE (relative to its working directory). */
function fpmConfig(argv: readonly string[], cwd: string): string | undefined {
  const file = flagValue(argv, ['-y'], ['--fpm-config']);
  if (!file) return undefined;
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** An ini-style setting's last value ("pm.max_children = 5"), comments and quotes stripped. */
export function iniValue(text: string, key: string): string | undefined {
  let found: string | undefined;
  const escaped = key.replace(/[.]/g, '\\.');
  for (const line of text.split('\n')) {
    const m = new RegExp(`^\\s*${escaped}\\s*=\\s*(.*?)\\s*(;.*)?$`).exec(line);
    if (m) found = (m[1] ?? '').replace(/^["']|["']$/g, '');
  }
  return found;
}

/**
 * php-fpm: `pm.max_children` of a `pm = static` pool in its -y configuration; undefined (detect) for
 * a dynamic or ondemand pool, whose size moves with load, or when the file cannot be read.
 */
export function phpFpmWorkers(argv: readonly string[], cwd: string): number | undefined {
  const text = fpmConfig(argv, cwd);
  if (text === undefined) return undefined;
  if ((iniValue(text, 'pm') ?? 'dynamic') !== 'static') return undefined;
  return count(iniValue(text, 'pm.max_children'));
}

/** php-fpm's `listen` when it is a loopback TCP address ("127.0.0.1:9000", "9000"); undefined for a Unix socket. */
export function phpFpmPort(argv: readonly string[], cwd: string): number | undefined {
  const text = fpmConfig(argv, cwd);
  const listen = text === undefined ? undefined : iniValue(text, 'listen');
  const m = listen === undefined ? null : /^(?:(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]):)?(\d+)$/.exec(listen);
  return m ? Number(m[1]) : undefined;
}

/** php-fpm's `listen` when it is a Unix socket (a path), resolved against the working directory. */
export function phpFpmSocket(argv: readonly string[], cwd: string): string | undefined {
  const text = fpmConfig(argv, cwd);
  const listen = text === undefined ? undefined : iniValue(text, 'listen');
  return listen?.startsWith('/') || listen?.startsWith('.') ? resolve(cwd, listen) : undefined;
}

/** The pool's process manager (static, dynamic, ondemand), when a configuration names it. */
export function phpFpmManager(argv: readonly string[], cwd: string): string | undefined {
  const text = fpmConfig(argv, cwd);
  return text === undefined ? undefined : (iniValue(text, 'pm') ?? 'dynamic');
}

/**
 * Apache's prefork MPM: the children it starts. Directives come from -C/-c on the command line (after
 * and before the config file) and from the -f configuration; a fixed pool has StartServers children
 * (with Min/MaxSpareServers around it). Undefined when no StartServers is given: detect them.
 */
export function apacheWorkers(argv: readonly string[], cwd: string): number | undefined {
  const directives: string[] = [];
  for (let i = 0; i < argv.length; i++) if ((argv[i] === '-C' || argv[i] === '-c') && argv[i + 1]) directives.push(argv[i + 1] as string);
  const file = flagValue(argv, ['-f'], []);
  if (file) {
    try {
      directives.unshift(...readFileSync(resolve(cwd, file), 'utf8').split('\n'));
    } catch {
      // unreadable: the command-line directives alone
    }
  }
  let start: number | undefined;
  for (const d of directives) {
    const m = /^\s*StartServers\s+(\d+)\s*$/i.exec(d);
    if (m) start = Number(m[1]);
  }
  return start;
}

/** Celery's prefork pool: -c/--concurrency, else the host's cores (as Celery counts them). */
export function celeryWorkers(argv: readonly string[]): number | undefined {
  const v = flagValue(argv, ['-c'], ['--concurrency']);
  return v !== undefined ? count(v) : cpus().length;
}

export function unicornWorkers(argv: readonly string[], cwd: string): number | undefined {
  const file = flagValue(argv, ['-c'], ['--config-file']);
  if (!file) return 1;
  const config = configValue(file, cwd, /^\s*worker_processes\b\s*\(?\s*(.*?)\s*\)?\s*(#.*)?$/);
  return config.present ? config.value : 1;
}
