import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { flagValue } from './worker-count.js';

/**
 * Where each family's port lives when the command does not take {port}: its flags, or its own
 * configuration file (read, never written). Only loopback TCP addresses count: load goes to loopback only.
 */

/** "127.0.0.1:8000", "localhost:8000", "[::1]:8000", ":8000", "8000", "tcp://127.0.0.1:8000" → 8000. */
export function loopbackPort(address: string | undefined): number | undefined {
  if (address === undefined) return undefined;
  const a = address
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/^(tcp|http):\/\//, '')
    .replace(/[/?].*$/, '');
  const m = /^(?:(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]|0\.0\.0\.0|\*)?:)?(\d{1,5})$/.exec(a);
  const port = m ? Number(m[1]) : undefined;
  return port !== undefined && port >= 1 && port <= 65535 ? port : undefined;
}

function read(file: string | undefined, cwd: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(resolve(cwd, file.replace(/^python:/, '')), 'utf8');
  } catch {
    return undefined;
  }
}

/** The last line of a text matching a pattern, its first group. */
function lastMatch(text: string | undefined, pattern: RegExp): string | undefined {
  let found: string | undefined;
  for (const line of text?.split('\n') ?? []) {
    const m = pattern.exec(line);
    if (m) found = m[1];
  }
  return found;
}

/** gunicorn: -b/--bind ADDRESS, else `bind = "…"` in its -c config. */
export function gunicornPort(argv: readonly string[], cwd: string): number | undefined {
  const flag = flagValue(argv, ['-b'], ['--bind']);
  if (flag !== undefined) return loopbackPort(flag);
  const config = read(flagValue(argv, ['-c'], ['--config']), cwd);
  const bind = lastMatch(config, /^\s*bind\s*=\s*\[?\s*["']([^"']+)["']/);
  return loopbackPort(bind);
}

/** uWSGI: --http-socket/--http/--socket on the command line, else the same keys in its --ini file. */
export function uwsgiPort(argv: readonly string[], cwd: string): number | undefined {
  const keys = ['--http-socket', '--http', '--socket', '--uwsgi-socket'];
  const flag = flagValue(argv, ['-s'], keys);
  if (flag !== undefined) return loopbackPort(flag);
  const ini = read(flagValue(argv, [], ['--ini']) ?? argv.find((a) => a.endsWith('.ini')), cwd);
  return loopbackPort(lastMatch(ini, /^\s*(?:http-socket|http|socket|uwsgi-socket)\s*=\s*(\S+)/));
}

/** Puma: -b/--bind or -p/--port, else `bind 'tcp://…'` or `port N` in its -C config. */
export function pumaPort(argv: readonly string[], cwd: string): number | undefined {
  const bind = flagValue(argv, ['-b'], ['--bind']);
  if (bind !== undefined) return loopbackPort(bind);
  const port = flagValue(argv, ['-p'], ['--port']);
  if (port !== undefined) return loopbackPort(port);
  const config = read(flagValue(argv, ['-C'], ['--config']), cwd);
  const fromBind = lastMatch(config, /^\s*bind\s*\(?\s*["']([^"']+)["']/);
  if (fromBind !== undefined) return loopbackPort(fromBind);
  return loopbackPort(lastMatch(config, /^\s*port\s*\(?\s*["']?(\d+)["']?/));
}

/** Unicorn: -l/--listen, else `listen "…"` or `listen N` in its -c config. */
export function unicornPort(argv: readonly string[], cwd: string): number | undefined {
  const flag = flagValue(argv, ['-l'], ['--listen']);
  if (flag !== undefined) return loopbackPort(flag);
  const config = read(flagValue(argv, ['-c'], ['--config-file']), cwd);
  return loopbackPort(lastMatch(config, /^\s*listen\s*\(?\s*["']?([^"',\s)]+)["']?/));
}

/** Apache: `Listen [ADDRESS:]PORT` from -C/-c directives and the -f configuration (the first one it reads). */
export function apachePort(argv: readonly string[], cwd: string): number | undefined {
  const directives: string[] = [];
  for (let i = 0; i < argv.length; i++) if ((argv[i] === '-C' || argv[i] === '-c') && argv[i + 1]) directives.push(argv[i + 1] as string);
  const file = read(flagValue(argv, ['-f'], []), cwd);
  if (file) directives.unshift(...file.split('\n'));
  for (const d of directives) {
    const m = /^\s*Listen\s+(\S+)/i.exec(d);
    if (m) return loopbackPort(m[1]);
  }
  return undefined;
}
