import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import { cli, isAlive, ROOT } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'memcompare-families-'));

describe('Puma --fork-worker=N: the refork, seen in a soak', { timeout: 120_000 }, () => {
  it('worker 0 forks the others anew after its requests: each one replaced, with cause refork, and said so', () => {
    const file = join(tmp, 'refork.json');
    const r = cli(
      [
        'run',
        '--command',
        'puma -w 3 -t 1:1 --fork-worker=300 -b tcp://127.0.0.1:{port} -e production config.ru',
        '--cwd',
        join(ROOT, 'scenarios', 'apps', 'rack-heavy'),
        // A short fixed warm-up: worker 0 reaches its 300 requests in the soak, not before (Puma checks every 5 s).
        '--warmup-until',
        'count',
        '--warmup-requests',
        '30',
        '--soak',
        '12',
        '--runs',
        '1',
        '--no-throughput',
        '--json',
        file,
      ],
      { timeoutMs: 100_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const soak = readResults(file).variants[0]?.runs[0]?.soak;
    const reforked = (soak?.replacements ?? []).filter((x) => x.cause === 'refork');
    // Worker 0 is the mold and stays; the 2 others are forked anew from it.
    assert.ok(reforked.length >= 2, JSON.stringify(soak?.replacements));
    assert.match(r.stdout, /\d+ reforked from a warm worker/);
    // Right after it the new workers share everything with worker 0: the total dips, and rises again as they serve.
    const g = soak?.refork;
    assert.ok(g && g.afterBytes < g.beforeBytes && g.endBytes > g.afterBytes, JSON.stringify(g));
    assert.match(
      r.stdout,
      /refork at [\d.]+ s \(\d+ workers forked anew from a warm one\): total PSS [\d.]+ MiB before, [\d.]+ MiB right after/,
    );
  });
});

describe('every shipped scenario of the other server families runs for real', { timeout: 300_000 }, () => {
  for (const [scenario, family] of [
    ['uwsgi-lazy-apps-vs-preload', 'uwsgi'],
    ['puma-preload', 'puma'],
    ['puma-fork-worker', 'puma'],
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
      const perWorker = doc.summary.comparisons.filter((c) => c.metric === 'workerPssBytes');
      const depth = `after ${doc.scenario.warmup.requests} warm-up requests`;
      if (family === 'unicorn') {
        // A preloaded Ruby 3.1 worker unshares ~15 MB at its first collection (the scenario runs one
        // as each worker starts, docs/method.md): preloading alone saves less than it does before
        // that collection, and promoting the master's objects to old before the fork saves more.
        const preload = perWorker.find((c) => c.variant === 'preload');
        const promoted = perWorker.find((c) => c.variant === 'preload-promoted');
        assert.ok(preload && preload.ratio > 0.5 && preload.ratio < 0.75, `preload per-worker PSS ratio ${preload?.ratio} ${depth}`);
        assert.ok(
          promoted && promoted.ratio < preload.ratio,
          `promoted ratio ${promoted?.ratio} not below preload's ${preload.ratio} ${depth}`,
        );
      } else if (scenario === 'puma-fork-worker') {
        // Worker 0 loads the app and forks the others: every worker is found (3 of them the master's
        // grandchildren), and sharing worker 0's heap saves as --preload does.
        const forked = doc.variants.find((v) => v.name === 'fork-worker')?.runs[0];
        const master = forked?.masterPid;
        const nested = forked?.processes.filter((p) => p.role === 'worker' && p.ppid !== master) ?? [];
        assert.equal(nested.length, 2, JSON.stringify(forked?.processes.map((p) => [p.pid, p.ppid, p.role])));
        const fw = perWorker.find((c) => c.variant === 'fork-worker');
        assert.ok(fw && fw.ratio < 0.75, `fork-worker per-worker PSS ratio ${fw?.ratio} ${depth}`);
      } else {
        const worker = perWorker[0];
        assert.ok(worker && worker.ratio < 0.6, `per-worker PSS ratio ${worker?.ratio} ${depth}`);
      }
      const pids = doc.variants.flatMap((v) => v.runs.flatMap((run) => run.processes.map((p) => p.pid)));
      assert.deepEqual(pids.filter(isAlive), []);
    });
  }
});
