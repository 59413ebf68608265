import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import { cli, isAlive } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'memcompare-families-'));

describe('every shipped scenario of the other server families runs for real', { timeout: 300_000 }, () => {
  for (const [scenario, family] of [
    ['uwsgi-lazy-apps-vs-preload', 'uwsgi'],
    ['puma-preload', 'puma'],
    ['unicorn-preload-app', 'unicorn'],
  ]) {
    it(`${scenario}: preloading saves PSS per worker; stopped without force; nothing left`, () => {
      const file = join(tmp, `${scenario}.json`);
      const r = cli(['run', scenario as string, '--runs', '1', '--workers', '3', '--json', file, '--progress']);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /forced/);
      const doc = readResults(file);
      assert.equal(doc.scenario.server, family);
      assert.match(doc.host.server, /\d+\.\d+/, 'server version recorded');
      for (const v of doc.variants) {
        const run = v.runs[0];
        assert.ok(run);
        assert.equal(run.processes.filter((p) => p.role === 'worker').length, 3);
        assert.deepEqual(run.warmup.idleWorkers, []);
      }
      const worker = doc.summary.comparisons.find((c) => c.metric === 'workerPssBytes');
      assert.ok(worker && worker.ratio < 0.6, `per-worker PSS ratio ${worker?.ratio}`);
      const pids = doc.variants.flatMap((v) => v.runs.flatMap((run) => run.processes.map((p) => p.pid)));
      assert.deepEqual(pids.filter(isAlive), []);
    });
  }
});
