import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliAsNobody, tempDir } from '../helpers.js';
import { makeResults } from '../results-fixture.js';

function assertOneLineError(args: string[], pattern: RegExp) {
  const r = cli(args);
  assert.equal(r.status, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

const tmp = tempDir('memcompare-cli-');
const garbled = join(tmp, 'garbled.json');
writeFileSync(garbled, '{"schemaVersion": 1, "variants": [');
const foreign = join(tmp, 'foreign.json');
writeFileSync(foreign, '{"schemaVersion": 1, "name": "not memcompare"}');
const future = join(tmp, 'future.json');
writeFileSync(future, '{"schemaVersion": 99}');

describe('bad input: one line, exit 2, no stack trace', () => {
  it('an unknown pid', () =>
    assertOneLineError(['snapshot', '--pid', '4194000'], /^memcompare: --pid 4194000: no such process; pass the pid of a running process/));
  it('a pid that is not a number', () => assertOneLineError(['snapshot', '--pid', '12x'], /^memcompare: --pid "12x": not a process id/));
  it('an invalid regex', () =>
    assertOneLineError(['snapshot', '--match', 'gunicorn('], /^memcompare: --match "gunicorn\(": invalid regular expression/));
  it('an unknown column', () =>
    assertOneLineError(['snapshot', '-c', 'pid wss'], /^memcompare: --columns "wss": unknown column; use any of:/));
  it('an unknown sort column', () => assertOneLineError(['snapshot', '-s', 'size'], /^memcompare: --sort "size": unknown column/));
  it('--tree without --pid', () =>
    assertOneLineError(['snapshot', '--tree'], /^memcompare: --tree true: name the root processes with --pid/));
  it('an unknown user', () =>
    assertOneLineError(['snapshot', '--user', 'no-such-user-x'], /^memcompare: --user "no-such-user-x": no such user/));
  it('a permission error names ptrace-read access', (t) => {
    // As root every process is readable: memcompare runs as nobody against this root-owned test process.
    const r = cliAsNobody(['snapshot', '--pid', String(process.pid)]);
    if (!r) return t.skip('needs root to drop to nobody');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^memcompare: --pid ${process.pid}: permission denied .*ptrace-read access`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('an unknown flag', () => assertOneLineError(['snapshot', '--bogus'], /^memcompare: Unknown argument: bogus; see memcompare --help/));
  it('no command', () => assertOneLineError([], /^memcompare: name a command/));
  it('an unknown scenario', () => assertOneLineError(['run', 'nope'], /^memcompare: scenario "nope": not found/));
  it('a --command without {port}', () =>
    assertOneLineError(
      ['run', '--command', 'gunicorn app:app'],
      /^memcompare: --command "gunicorn app:app": add \{port\} where .* or pass --port/,
    ));
  it('an output folder that does not exist, before anything boots', () =>
    assertOneLineError(
      ['run', 'preload-vs-nopreload', '--json', '/nonexistent-dir/r.json'],
      /^memcompare: --json "\/nonexistent-dir\/r\.json": folder \/nonexistent-dir does not exist/,
    ));
  it('report: a truncated results file', () =>
    assertOneLineError(['report', garbled], /^memcompare: RESULTS ".*garbled\.json": not valid JSON .*maybe truncated; regenerate it/));
  it('report: a JSON file that is not a results document', () =>
    assertOneLineError(
      ['report', foreign],
      /^memcompare: RESULTS ".*foreign\.json": not a memcompare results document \(\(document\) must have required property '[a-z]+'\)/,
    ));
  it('report: another schema version', () =>
    assertOneLineError(['report', future], /^memcompare: RESULTS ".*future\.json": schemaVersion 99 is not 1/));
  it('report: a missing file', () =>
    assertOneLineError(['report', join(tmp, 'nope.json')], /^memcompare: RESULTS ".*nope\.json": cannot be read \(ENOENT\)/));
  it('report: an unknown format', () =>
    assertOneLineError(
      ['report', garbled, '-f', 'xml'],
      /^memcompare: --format "xml": use one of: markdown, html, json, table, csv, gab, bmf/,
    ));
  it('run: --json - and --markdown - together', () =>
    assertOneLineError(
      ['run', 'preload-vs-nopreload', '--json', '-', '--markdown', '-'],
      /^memcompare: --markdown "-": only one of --json and --markdown can go to stdout/,
    ));
  it('run: --html - (the HTML report is one file)', () =>
    assertOneLineError(
      ['run', 'preload-vs-nopreload', '--html', '-'],
      /^memcompare: --html "-": the HTML report is one file: give it a path \(or use report -f html\)$/,
    ));
  it('run: --html into a folder that does not exist', () =>
    assertOneLineError(
      ['run', 'preload-vs-nopreload', '--html', '/nonexistent/dir/r.html'],
      /^memcompare: --html "\/nonexistent\/dir\/r.html": /,
    ));
  it('a flag missing its value (found by the fuzz test)', () =>
    assertOneLineError(['report', 'x.json', '--out'], /^memcompare: Not enough arguments following: out; see memcompare --help/));
  it('report to stdout leaves no file behind in the working folder', () => {
    const cwd = mkdtempSync(join(tmp, 'cwd-'));
    const ok = join(cwd, '..', `ok-${process.pid}.json`);
    writeFileSync(ok, JSON.stringify(makeResults()));
    const r = cli(['report', ok], { cwd });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# memcompare: fixture/);
    assert.deepEqual(readdirSync(cwd), []);
  });
});
