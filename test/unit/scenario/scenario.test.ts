import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listScenarioFiles, loadScenario, validateScenario } from '../../../src/scenario/scenario.js';

const base = mkdtempSync(join(tmpdir(), 'memcompare-scenario-'));
const good = {
  name: 'x',
  command: ['gunicorn', '-b', '127.0.0.1:{port}', 'app:app'],
  variants: [{ name: 'a' }, { name: 'b', args: ['--preload'] }],
};

describe('scenarios', () => {
  it('ships preload-vs-nopreload as the seed describes it', () => {
    const s = loadScenario('preload-vs-nopreload');
    assert.equal(s.server, 'gunicorn');
    assert.equal(s.workers, 5);
    assert.deepEqual(
      s.variants.map((v) => [v.name, v.args]),
      [
        ['nopreload', []],
        ['preload', ['--preload']],
      ],
    );
    assert.deepEqual([s.warmup.requests, s.warmup.connections], [30, 30]);
    assert.match(s.cwd, /scenarios\/apps\/numpy-matplotlib$/);
  });
  it('every shipped scenario validates', () => {
    const names = listScenarioFiles().map((f) => f.replace(/\.json$/, ''));
    assert.ok(names.length >= 4, names.join(', '));
    for (const n of names) assert.equal(loadScenario(n).name, n);
  });
  it('fills defaults', () => {
    const s = validateScenario(good, 'f.json', base);
    assert.equal(s.runs, 3);
    assert.equal(s.cwd, base);
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ['missing {port}', { ...good, command: ['gunicorn', 'app:app'] }, /f\.json: command \["gunicorn","app:app"\]: must contain \{port\}/],
    ['a typo in a field', { ...good, wokers: 5 }, /f\.json: wokers 5: unknown field; known fields:/],
    ['zero workers', { ...good, workers: 0 }, /f\.json: workers 0: must be a whole number from 1 to 256/],
    ['duplicate variants', { ...good, variants: [{ name: 'a' }, { name: 'a' }] }, /variants\[1\]\.name "a": variant names must differ/],
    [
      'more connections than requests',
      { ...good, warmup: { requests: 10, connections: 30 } },
      /warmup\.connections 30: must not exceed warmup\.requests \(10\)/,
    ],
    [
      'a path that escapes the scenario folder',
      { ...good, app: '../../etc' },
      /app "\.\.\/\.\.\/etc": must stay inside the scenario folder/,
    ],
    [
      'a warm-up path without a slash',
      { ...good, warmup: { path: 'http://10.0.0.1/' } },
      /warmup\.path "http:\/\/10\.0\.0\.1\/": must be a path starting with one "\/"/,
    ],
    [
      'a warm-up path that names another host',
      { ...good, warmup: { path: '//10.0.0.1/x' } },
      /warmup\.path "\/\/10\.0\.0\.1\/x": must be a path starting with one "\/" \(load goes to loopback only/,
    ],
    ['a host field', { ...good, host: '10.0.0.1' }, /host "10\.0\.0\.1": unknown field/],
    ['an unknown server family', { ...good, server: 'tomcat' }, /server "tomcat": unknown server family/],
  ];
  for (const [what, doc, message] of bad) {
    it(`refuses ${what} with file, field, value and fix`, () => {
      assert.throws(
        () => validateScenario(doc, 'f.json', base),
        (e: Error) => {
          assert.match(e.message, message);
          assert.equal(e.message.includes('\n'), false);
          return true;
        },
      );
    });
  }
  it('names the shipped scenarios when one is not found', () => {
    assert.throws(() => loadScenario('nope'), /scenario "nope": not found .*preload-vs-nopreload/);
  });
});
