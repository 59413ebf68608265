import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-reload-');
const APP = join(ROOT, 'scenarios', 'apps', 'reload', 'wsgi.py');
const reloadOf = (doc: ResultsDocument, variant: string) => doc.variants.find((v) => v.name === variant)?.runs[0]?.reload;
const allPids = (doc: ResultsDocument) =>
  doc.variants.flatMap((v) => v.runs.flatMap((r) => [r.masterPid, ...r.processes.map((p) => p.pid)]));

describe('reload staleness, measured on real servers', { timeout: 420_000 }, () => {
  const original = readFileSync(APP, 'utf8');

  it('gunicorn: HUP picks up a code change without --preload, serves the old code with it', () => {
    const file = join(tmp, 'gunicorn.json');
    const md = join(tmp, 'gunicorn.md');
    const r = cli(['run', 'reload-staleness', '--json', file, '--markdown', md], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = readResults(file);
    const lazy = reloadOf(doc, 'nopreload');
    const preload = reloadOf(doc, 'preload');
    assert.ok(lazy && preload);
    assert.deepEqual([lazy.before, lazy.after, lazy.stale], ['v1', 'v2', false]);
    assert.deepEqual([preload.before, preload.after, preload.stale], ['v1', 'v1', true]);
    for (const x of [lazy, preload]) {
      assert.equal(x.workersReplaced, 5);
      assert.ok(x.totalPssAfterBytes > 0 && x.totalPssBeforeBytes > 0);
    }
    assert.match(r.stdout, /== Reload: memory saved against code picked up/);
    assert.match(r.stdout, /│ preload +│ [\d.]+ MiB +│ 0\.\d\dx +│ NO: stale code/);
    assert.match(
      readFileSync(md, 'utf8'),
      /## Reload: memory saved against code picked up[\s\S]*\| nopreload \| [\d.]+ MiB \| 1\.00x \| yes \|/,
    );
    // The user's app is never edited; nothing is left running.
    assert.equal(readFileSync(APP, 'utf8'), original);
    assert.ok(allPids(doc).every((pid) => !isAlive(pid)));
  });

  it('uWSGI: HUP re-executes the master, so even the preloading default picks up the change', () => {
    const file = join(tmp, 'uwsgi.json');
    const r = cli(['run', 'uwsgi-reload', '--json', file], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = readResults(file);
    for (const name of ['lazy-apps', 'preload']) {
      const x = reloadOf(doc, name);
      assert.ok(x, name);
      assert.deepEqual([x.before, x.after, x.stale], ['v1', 'v2', false], name);
    }
    assert.equal(readFileSync(APP, 'utf8'), original);
    assert.ok(allPids(doc).every((pid) => !isAlive(pid)));
  });

  it('a reload edit that does not match the app is refused before anything boots', () => {
    const bad = join(tmp, 'bad.json');
    const scenario = JSON.parse(readFileSync(join(ROOT, 'scenarios', 'reload-staleness.json'), 'utf8'));
    scenario.app = join(ROOT, 'scenarios', 'apps', 'reload');
    scenario.reload.edit.replace = 'VERSION = "v9"';
    writeFileSync(bad, JSON.stringify(scenario));
    const r = cli(['run', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /reload\.edit\.replace "VERSION = \\"v9\\"": does not occur in wsgi\.py/);
  });
});
