import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Reading a server's own command line and configuration files, the way servers read them: shared by
 * every family module (each knows its flags and keys; these know how flags and files are written).
 * Files are only read, never written.
 */

/** The value of a flag, short (`-w 3`, `-w3`) or long (`--workers 3`, `--workers=3`); the last one wins. */
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

/** A whole number written as one ("4"), else undefined (an expression cannot be read without running it). */
export const count = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : undefined);

/** A configuration file's text, relative to the working directory (`python:` module paths as files); undefined when unreadable. */
export function readConfig(file: string | undefined, cwd: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(resolve(cwd, file.replace(/^python:/, '')), 'utf8');
  } catch {
    return undefined;
  }
}

/** The first group of the last line of a text that matches a pattern. */
export function lastMatch(text: string | undefined, pattern: RegExp): string | undefined {
  let found: string | undefined;
  for (const line of text?.split('\n') ?? []) {
    const m = pattern.exec(line);
    if (m) found = m[1];
  }
  return found;
}

/**
 * A count set in a configuration file: `present` when the file sets it (or cannot be read: then the
 * count is unknown, not the default), `value` when it is a plain number.
 */
export function configCount(file: string | undefined, cwd: string, pattern: RegExp): { present: boolean; value: number | undefined } {
  if (!file) return { present: false, value: undefined };
  const text = readConfig(file, cwd);
  if (text === undefined) return { present: true, value: undefined };
  if (!text.split('\n').some((l) => pattern.test(l))) return { present: false, value: undefined };
  return { present: true, value: count(lastMatch(text, pattern)) };
}

/** An ini-style setting's last value ("pm.max_children = 5"), comments and quotes stripped. */
export function iniValue(text: string, key: string): string | undefined {
  const escaped = key.replace(/[.]/g, '\\.');
  return lastMatch(text, new RegExp(`^\\s*${escaped}\\s*=\\s*(.*?)\\s*(;.*)?$`))?.replace(/^["']|["']$/g, '');
}

/** "127.0.0.1:8000", "localhost:8000", "[::1]:8000", ":8000", "8000", "tcp://127.0.0.1:8000" → 8000; other hosts → undefined (load goes to loopback only). */
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
