import { MemcompareError } from '../errors.js';

/**
 * Kept by hand, not shell-quote: measured, shell-quote accepts an unterminated quote silently, drops
 * the trailing backslash, and rewrites `${X}y` as `$Xy` when told not to expand variables; a test
 * compares this splitter with Python's shlex on 1,000 generated inputs (test/unit/fuzz.test.ts).
 *
 * Splits a command string into an argument vector the way a POSIX shell splits words (quotes and
 * backslashes), without running a shell: no expansion, no pipes. Placeholders are filled later,
 * inside single arguments, so a value can never add an argument.
 */
export function splitCommand(command: string, flag = '--command'): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command.charAt(i);
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < command.length && '"\\$`'.includes(command.charAt(i + 1))) cur += command.charAt(++i);
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= command.length)
        throw new MemcompareError('BAD_ARGUMENT', `${flag} ${JSON.stringify(command)}: ends in a backslash; remove it or escape it (\\\\)`);
      cur += command.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new MemcompareError('BAD_ARGUMENT', `${flag} ${JSON.stringify(command)}: unterminated ${quote} quote; close the quote`);
  if (inWord) out.push(cur);
  return out;
}

/** Fills {port} and {workers} inside each argument; values never split into new arguments. */
export function expandCommand(
  template: string[],
  values: { port: number; workers: number; config?: string; app?: string; services?: Record<string, number> },
): string[] {
  return template.map((a) => {
    let out = a.replaceAll('{port}', String(values.port)).replaceAll('{workers}', String(values.workers));
    for (const [name, port] of Object.entries(values.services ?? {})) out = out.replaceAll(`{services.${name}.port}`, String(port));
    if (values.config !== undefined) out = out.replaceAll('{config}', values.config);
    if (values.app !== undefined) out = out.replaceAll('{app}', values.app);
    return out;
  });
}
