import { MemcompareError } from '../errors.js';

/**
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
    } else if (ch === '\\' && i + 1 < command.length) {
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
