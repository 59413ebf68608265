import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, ROOT } from '../helpers.js';

const DOCS = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).map((f) => join('docs', f))];

/** Every `memcompare …` command a document shows: in code spans and in code blocks. */
function commandsIn(text: string): string[] {
  const spans = [...text.matchAll(/`(memcompare [^`]+)`/g)].map((m) => m[1] as string);
  const blocks = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] as string)
      .split('\n')
      .map((l) => l.trim().replace(/^\$ /, ''))
      .filter((l) => l.startsWith('memcompare ')),
  );
  return [...spans, ...blocks];
}

const helpOf = new Map<string, string>();
function help(sub: string): string {
  if (!helpOf.has(sub)) helpOf.set(sub, spawnSync(process.execPath, [BIN, sub, '--help'], { encoding: 'utf8' }).stdout);
  return helpOf.get(sub) as string;
}

describe('every command the README and docs show runs as written', () => {
  const shown = DOCS.flatMap((f) => commandsIn(readFileSync(join(ROOT, f), 'utf8')).map((c) => ({ f, c })));
  it('they show commands at all', () => assert.ok(shown.length >= 20, String(shown.length)));
  it("each names a real command, and each of its flags is in that command's --help", () => {
    const top = help('');
    const problems: string[] = [];
    for (const { f, c } of shown) {
      // A quoted argument (the server command given to --command) holds the server's flags, not memcompare's.
      const words = c
        .replace(/'[^']*'|"[^"]*"/g, 'ARG')
        .replace(/\[|\]|…/g, ' ')
        .split(/\s+/)
        .filter(Boolean);
      const sub = words[1] as string;
      if (!new RegExp(`memcompare ${sub}\\b`).test(top)) {
        problems.push(`${f}: ${c}: no command ${sub}`);
        continue;
      }
      const text = help(sub);
      for (const w of words.slice(2)) {
        const flag = /^(--?[A-Za-z][\w-]*)/.exec(w)?.[1];
        if (!flag || flag === '-') continue;
        const known = flag.startsWith('--')
          ? new RegExp(`${flag}(\\b|[ ,=\\]])`).test(text)
          : new RegExp(`(^|[ ,])${flag}[ ,]`, 'm').test(text);
        if (!known) problems.push(`${f}: ${c}: ${flag} is not in memcompare ${sub} --help`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
