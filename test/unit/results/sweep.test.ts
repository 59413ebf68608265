import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSweep } from '../../../src/render/sweep.js';
import { linearFit } from '../../../src/results/fit.js';
import { analyzeSweep } from '../../../src/results/sweep.js';
import type { ProcessRecord, ResultsDocument, RunRecord, VariantResult } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

const MiB = 1048576;

/** A run with a master of `masterMib` PSS and `n` workers of `workerMib` PSS (USS = PSS − 8 MiB shared; RSS = PSS + 40). */
function run(n: number, masterMib: number, workerMib: number): RunRecord {
  const base = makeResults({ runs: 1 }).variants[0]?.runs[0] as RunRecord;
  const p = (pid: number, role: ProcessRecord['role'], pss: number): ProcessRecord => ({
    ...(base.processes[0] as ProcessRecord),
    pid,
    role,
    pssBytes: pss * MiB,
    ussBytes: (pss - 8) * MiB,
    rssBytes: (pss + 40) * MiB,
  });
  return { ...base, processes: [p(1, 'master', masterMib), ...Array.from({ length: n }, (_, i) => p(10 + i, 'worker', workerMib))] };
}

function sweepDoc(points: Record<string, [number, number, number][]>): ResultsDocument {
  const doc = makeResults();
  doc.variants = Object.entries(points).flatMap(([name, list]) =>
    list.map(
      ([n, master, worker]): VariantResult => ({
        name: `${name}@${n}w`,
        command: [],
        env: {},
        point: { variant: name, workers: n },
        runs: [run(n, master, worker)],
      }),
    ),
  );
  return doc;
}

describe('the sweep fit', () => {
  it('least squares: an exact line has R² 1', () => {
    const f = linearFit([1, 2, 4, 8], [14, 18, 26, 42]);
    assert.ok(Math.abs(f.slope - 4) < 1e-9 && Math.abs(f.intercept - 10) < 1e-9 && Math.abs(f.r2 - 1) < 1e-12);
  });

  it('a route that peaks while served: each worker keeps room for the worst peak (every worker may be at it at once)', () => {
    const doc = sweepDoc({ preload: [1, 2, 4, 8].map((n) => [n, 30, 12] as [number, number, number]) });
    const soaked = doc.variants[3]?.runs[0] as RunRecord;
    const route = (path: string, peakMib: number) => ({
      path,
      method: 'GET',
      weight: 1,
      segments: 3,
      requests: 300,
      bytesPerRequest: 0,
      r2: 0,
      interval: [0, 0] as [number, number],
      transientPeakBytes: peakMib * MiB,
      transientPeakPid: 10,
    });
    soaked.soak = {
      ...(makeResults({ runs: 1 }).variants[0]?.runs[0]?.soak ?? ({} as NonNullable<RunRecord['soak']>)),
      routes: { byRoute: [route('/', 0.5), route('/export', 40)], peakReadEveryMs: 5, peakUssBytes: {} },
    } as NonNullable<RunRecord['soak']>;
    const { sweep } = analyzeSweep(doc, 2048 * MiB);
    const v = sweep.variants[0];
    assert.deepEqual(v?.transientPeak, { bytes: 40 * MiB, path: '/export' });
    assert.equal(v?.maxWorkers, Math.floor((2048 - 30) / (12 + 40)));
    assert.match(renderSweep({ ...doc, sweep } as ResultsDocument), /room holds \/export's transient peak \(\+40\.0 MiB while served\)/);
  });

  it('fixed cost and cost per worker per variant; how many workers fit a budget, against the RSS and PSS rules', () => {
    // Preloaded: master 30 MiB, each worker 12 MiB PSS → total = 30 + 12 n.
    const { sweep, warnings } = analyzeSweep(
      sweepDoc({ preload: [1, 2, 4, 8].map((n) => [n, 30, 12] as [number, number, number]) }),
      2048 * MiB,
    );
    const v = sweep.variants[0];
    assert.ok(v);
    assert.ok(Math.abs(v.fixedBytes / MiB - 30) < 1e-6, String(v.fixedBytes / MiB));
    assert.ok(Math.abs(v.perWorkerBytes / MiB - 12) < 1e-6);
    assert.deepEqual(warnings, []);
    assert.equal(v.maxWorkers, Math.floor((2048 - 30) / 12));
    assert.equal(v.maxWorkersByRssRule, Math.floor(2048 / 52));
    assert.equal(v.maxWorkersByPssRule, Math.floor(2048 / 12));
    assert.deepEqual(sweep.workerCounts, [1, 2, 4, 8]);
  });

  it('warns when the points are not a line, naming the point', () => {
    const points: [number, number, number][] = [
      [1, 30, 12],
      [2, 30, 12],
      [4, 30, 12],
      [8, 30, 30],
    ];
    const { warnings } = analyzeSweep(sweepDoc({ lazy: points }));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.kind, 'not-linear');
    assert.match(warnings[0]?.message ?? '', /at 8 workers/);
  });

  it("words each variant's budget in its own family's setting (one server against another)", () => {
    const doc = sweepDoc({
      spawned: [2, 4].map((n) => [n, 20, 37] as [number, number, number]),
      forked: [2, 4].map((n) => [n, 30, 20] as [number, number, number]),
    });
    doc.scenario.server = 'uvicorn';
    for (const v of doc.variants) if (v.point?.variant === 'forked') v.server = 'gunicorn';
    doc.sweep = analyzeSweep(doc, 1024 * MiB).sweep;
    const text = renderSweep(doc, 400);
    const line = (name: string) =>
      text.split('\n').find(
        (l, i, all) =>
          l.startsWith('Budget') &&
          all
            .slice(0, i)
            .reverse()
            .find((x) => x.startsWith('=='))
            ?.startsWith(`== ${name}:`),
      );
    assert.match(line('spawned') ?? '', /set --workers \d+ \(or UVICORN_WORKERS=/);
    assert.match(line('forked') ?? '', /set --workers \d+ \(or WEB_CONCURRENCY=\d+\)/);
  });
});
