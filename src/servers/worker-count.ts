import { readFileSync } from 'node:fs';
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

export function unicornWorkers(argv: readonly string[], cwd: string): number | undefined {
  const file = flagValue(argv, ['-c'], ['--config-file']);
  if (!file) return 1;
  const config = configValue(file, cwd, /^\s*worker_processes\b\s*\(?\s*(.*?)\s*\)?\s*(#.*)?$/);
  return config.present ? config.value : 1;
}
