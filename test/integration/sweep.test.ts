import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import { predictTotalPss } from '../../src/results/sweep.js';
import { cli, FIXTURES, isAlive, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-sweep-');

describe('memcompare sweep on the seed scenario (real gunicorn, numpy, matplotlib)', { timeout: 420_000 }, () => {
  const file = join(tmp, 'sweep.json');
  const md = join(tmp, 'sweep.md');
  const r = cli(
    ['sweep', 'preload-vs-nopreload', '--workers', '1,2,4,8', '--runs', '1', '--budget', '2GiB', '--json', file, '--markdown', md],
    {
      timeoutMs: 400_000,
    },
  );
  const doc = readResults(file);

  it('measures every variant at every count, fits a line with R² >= 0.99, and prints it', () => {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(doc.sweep?.workerCounts, [1, 2, 4, 8]);
    for (const v of doc.sweep?.variants ?? []) {
      assert.ok(v.r2 >= 0.99, `${v.name}: R² ${v.r2}`);
      assert.deepEqual(
        v.points.map((p) => p.workers),
        [1, 2, 4, 8],
      );
    }
    assert.match(r.stdout, /== preload: total PSS = [\d.]+ MiB \+ [\d.]+ MiB × workers \(R² (?:0\.99\d+|1\.0000)\)/);
    assert.match(
      r.stdout,
      /Budget 2048\.0 MiB: set --workers \d+ \(or WEB_CONCURRENCY=\d+\) \(the RSS rule would set --workers \d+ .*\)\. \d+ workers fit by the fit of total PSS; the RSS rule/,
    );
    assert.ok(doc.variants.flatMap((v) => v.runs.map((x) => x.masterPid)).every((pid) => !isAlive(pid)));
  });

  it("predicts a count it did not measure within 5%, and each slope is within 10% of run's USS per worker", () => {
    const six = join(tmp, 'six.json');
    const run = cli(['run', 'preload-vs-nopreload', '--workers', '6', '--runs', '1', '--json', six, '-q'], { timeoutMs: 200_000 });
    assert.equal(run.status, 0, run.stderr);
    const measured = readResults(six);
    for (const v of doc.sweep?.variants ?? []) {
      const s = measured.summary.variants.find((x) => x.name === v.name);
      assert.ok(s);
      const predicted = predictTotalPss(v, 6);
      const off = Math.abs(predicted - s.totalPssBytes.median) / s.totalPssBytes.median;
      assert.ok(
        off <= 0.05,
        `${v.name}: predicted ${(predicted / 1048576).toFixed(1)} MiB, measured ${(s.totalPssBytes.median / 1048576).toFixed(1)} MiB`,
      );
      const slopeOff = Math.abs(v.perWorkerBytes - s.workerUssBytes.median) / s.workerUssBytes.median;
      assert.ok(
        slopeOff <= 0.1,
        `${v.name}: slope ${(v.perWorkerBytes / 1048576).toFixed(1)} MiB, USS per worker ${(s.workerUssBytes.median / 1048576).toFixed(1)} MiB`,
      );
    }
  });

  it('the report has the capacity section and its chart; gab and bmf carry the fixed and per-worker figures', () => {
    const out = cli(['report', file, '-f', 'bmf']);
    assert.equal(out.status, 0, out.stderr);
    const bmf = JSON.parse(out.stdout);
    assert.ok(bmf['preload-vs-nopreload/preload']['sweep-per-worker'].value > 0);
    const gab = cli(['report', file, '-f', 'gab']);
    assert.match(gab.stdout, /preload: cost per worker/);
    const mdReport = cli(['report', file, '--out', join(tmp, 'again.md')]);
    assert.equal(mdReport.status, 0, mdReport.stderr);
    assert.match(mdReport.stderr, /again-sweep\.svg/);
  });
});

describe('sweep: bad input, refused before booting', { timeout: 240_000 }, () => {
  for (const [workers, why] of [
    ['4,2', /increasing/],
    ['', /give the worker counts/],
    ['0,1', /whole number from 1 to 256/],
    ['1,x', /whole number from 1 to 256/],
    ['3', /at least two counts/],
  ] as const) {
    it(`--workers ${JSON.stringify(workers)}`, () => {
      const r = cli(['sweep', 'preload-vs-nopreload', '--workers', workers]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  }
  it('a budget that is not a size; a command without {workers}', () => {
    const b = cli(['sweep', 'preload-vs-nopreload', '--workers', '1,2', '--budget', 'lots']);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--budget "lots"/);
    const c = cli(['sweep', '--command', 'gunicorn -b 127.0.0.1:{port} -w 2 app:app', '--workers', '1,2']);
    assert.equal(c.status, 2);
    assert.match(c.stderr, /needs \{workers\}/);
  });
  it('counts the host cannot hold are refused after the first points, which are kept', () => {
    const file = join(tmp, 'big.json');
    const r = cli(
      [
        'sweep',
        '--command',
        'gunicorn -b 127.0.0.1:{port} -w {workers} app:app',
        '--cwd',
        join(FIXTURES, 'apps', 'ballast'),
        '--workers',
        '1,2,256',
        '--runs',
        '1',
        '--json',
        file,
      ],
      { timeoutMs: 200_000, env: { BALLAST_MIB: '200' } },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--workers 256: command1 would need about [\d.]+ GiB at 256 workers/);
    const doc = readResults(file);
    assert.equal(doc.complete, false);
    assert.deepEqual(
      doc.sweep?.variants[0]?.points.map((p) => p.workers),
      [1, 2],
    );
    assert.ok(doc.variants.flatMap((v) => v.runs.map((x) => x.masterPid)).every((pid) => !isAlive(pid)));
  });
});
