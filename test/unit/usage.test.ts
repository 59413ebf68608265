import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from '../helpers.js';

describe('usage text', () => {
  it('lists every command with what it does', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    for (const [cmd, what] of <Array<[string, string]>>[
      ['snapshot', 'like smem'],
      ['run [scenario]', 'compare the variants'],
      ['sweep [scenario]', 'at several worker counts'],
      ['report <results..>', 'Markdown'],
      ['check <current>', 'CI gate'],
      ['list', 'shipped scenarios'],
    ]) {
      // yargs wraps descriptions: the words may follow on the next line.
      assert.match(r.stdout, new RegExp(`memcompare ${cmd.replace(/[[\]<>.]/g, '\\$&')}\\s+[\\s\\S]{0,120}${what}`), cmd);
    }
  });
  it('documents each snapshot flag with its smem name', () => {
    const r = cli(['snapshot', '--help']);
    assert.equal(r.status, 0);
    for (const flag of [
      '-p, --pid',
      '--tree',
      '-P, --match',
      '-U, --user',
      '-t, --totals',
      '-k, --abbreviate',
      '-s, --sort',
      '-r, --reverse',
      '-c, --columns',
      '-H, --no-header',
      '--json',
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });
  it('--version prints the package version', () => {
    const r = cli(['--version']);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
