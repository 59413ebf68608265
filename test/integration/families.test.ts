import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import { cli, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-families-');

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
    // Both generations at equal depth (requests since each one's fork), and the server's own schedule beside them.
    assert.ok(g.equalDepth && g.equalDepth.length > 0, JSON.stringify(g));
    assert.ok(g.equalDepth.every((x, k, all) => k === 0 || x.requests > (all[k - 1]?.requests ?? 0)));
    assert.match(r.stdout, /at equal depth \(requests served since each one's fork\), the reforked workers hold [\d.]+ MiB (less|more)/);
    assert.match(r.stdout, /reforks on its own once, when worker 0 has served --fork-worker=N requests/);
    // The efficiency is taken over worker 0's RSS (the workers' parent), not the small master's (over 200% here).
    const cow = soak?.cowEfficiency;
    assert.equal(cow?.parent, 'worker');
    assert.ok(
      cow?.points.some((x) => x.generation === 1),
      JSON.stringify(cow),
    );
    assert.ok(
      cow.points.every((x) => x.percent > 0 && x.percent <= 120),
      JSON.stringify(cow.points),
    );
    assert.match(r.stdout, /copy-on-write efficiency \(each worker's shared part over the RSS of the worker it was forked from\)/);
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
        // The refork the run asks for (SIGURG): worker 0 stays, the 2 others are forked anew from it, warmed again to
        // the depth the first generation had, and measured; right after the refork the total overstates the saving.
        const again = doc.variants.find((v) => v.name === 'fork-worker-refork')?.runs[0];
        const f = again?.refork;
        assert.ok(again && f, JSON.stringify(again?.refork));
        assert.equal(f.workers, 2);
        assert.ok(f.afterBytes < f.beforeBytes, JSON.stringify(f));
        assert.ok(f.endBytes > f.afterBytes, `warmed again, the new workers copy: ${JSON.stringify(f)}`);
        assert.equal(again.totals.pssBytes, f.endBytes, 'the new generation is what the run measures');
        const mold = again.processes.find((p) => p.role === 'worker' && p.ppid === again.masterPid);
        const children = again.processes.filter((p) => p.role === 'worker' && p.ppid === mold?.pid);
        assert.equal(children.length, 2);
        // Each new worker served at least as many warm-up requests as the first generation's least-warmed one.
        const before = Math.min(
          ...Object.entries(again.warmup.requestsPerWorker ?? {})
            .filter(([pid]) => Number(pid) !== mold?.pid)
            .map(([, n]) => n),
        );
        assert.ok((f.warmedRequests ?? 0) >= 2 * before, JSON.stringify(f));
        assert.match(r.stdout, /reforked: 2 workers forked anew from a warm one; total PSS [\d.]+ MiB before, [\d.]+ MiB right after/);
      } else {
        const worker = perWorker[0];
        assert.ok(worker && worker.ratio < 0.6, `per-worker PSS ratio ${worker?.ratio} ${depth}`);
      }
      const pids = doc.variants.flatMap((v) => v.runs.flatMap((run) => run.processes.map((p) => p.pid)));
      assert.deepEqual(pids.filter(isAlive), []);
    });
  }
});
