import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, FIXTURES, isAlive, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-run-');

function allPids(doc: ResultsDocument): number[] {
  return doc.variants.flatMap((v) => v.runs.flatMap((r) => [r.masterPid, ...r.processes.map((p) => p.pid)]));
}

describe('memcompare run preload-vs-nopreload (real gunicorn, numpy, matplotlib, autocannon)', { timeout: 300_000 }, () => {
  const file = join(tmp, 'seed.json');
  const md = join(tmp, 'seed.md');
  const r = cli(['run', 'preload-vs-nopreload', '--runs', '3', '--json', file, '--markdown', md, '--verbose']);
  const doc = readResults(file);
  const summary = (name: string) => doc.summary.variants.find((v) => v.name === name);

  it('exits 0 and prints the tables, the warm-up and the comparison', () => {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /== nopreload, run \d of 3/);
    assert.match(r.stdout, / {2}PID Role {4}Command {25}Swap {6}USS {6}PSS {6}RSS \n/);
    assert.match(r.stdout, /Status code distribution:\n {2}\[204\] 30 responses/);
    assert.match(r.stdout, /PSS per worker/);
  });
  it('measures a master and 5 workers in every run, after 30 responses', () => {
    assert.equal(doc.complete, true);
    for (const v of doc.variants) {
      assert.equal(v.runs.length, 3);
      for (const run of v.runs) {
        assert.equal(run.processes.filter((p) => p.role === 'master').length, 1);
        assert.equal(run.processes.filter((p) => p.role === 'worker').length, 5);
        assert.equal(run.warmup.statusCodes['204'], 30);
        assert.equal(run.settle.settled, true);
        assert.equal(
          run.totals.pssBytes,
          run.processes.reduce((s, p) => s + p.pssBytes, 0),
        );
      }
    }
  });
  it('per-worker PSS with preload is at most 0.35x without; total PSS at most 0.45x', () => {
    const worker = doc.summary.comparisons.find((c) => c.metric === 'workerPssBytes');
    const total = doc.summary.comparisons.find((c) => c.metric === 'totalPssBytes');
    assert.ok(worker && total);
    assert.ok(worker.ratio <= 0.35, `per-worker ratio ${worker.ratio}`);
    assert.ok(total.ratio <= 0.45, `total ratio ${total.ratio}`);
    // RSS alone gives the wrong answer: summed RSS barely moves although memory use fell by half.
    const rss = doc.summary.comparisons.find((c) => c.metric === 'totalRssBytes');
    assert.ok(rss && rss.ratio > 0.8, `summed RSS ratio ${rss?.ratio}`);
  });
  it("each variant's total PSS varies by at most 1% across runs", () => {
    for (const name of ['nopreload', 'preload']) {
      const s = summary(name);
      assert.ok(s);
      assert.ok(s.totalPssBytes.spreadPercent <= 1, `${name}: ${s.totalPssBytes.spreadPercent}%`);
    }
  });
  it('records host metadata and the settings used', () => {
    assert.equal(doc.schemaVersion, 1);
    assert.match(doc.host.server, /gunicorn/);
    assert.ok(doc.host.cores > 0 && doc.host.memoryBytes > 0 && doc.host.kernel !== '');
    assert.deepEqual([doc.scenario.warmup.requests, doc.scenario.warmup.connections], [30, 30]);
  });
  it('writes a Markdown report with its charts beside it', () => {
    const text = readFileSync(md, 'utf8');
    assert.match(text, /# memcompare: preload-vs-nopreload/);
    for (const svg of ['seed-pss-split.svg', 'seed-total-pss.svg']) {
      assert.ok(text.includes(`](${svg})`), `links ${svg}`);
      assert.match(readFileSync(join(tmp, svg), 'utf8'), /^<svg/);
    }
  });
  it('leaves no process it started', () => {
    const alive = allPids(doc).filter(isAlive);
    assert.deepEqual(alive, []);
  });
});

describe('memcompare run --command (ad hoc, an app it has not seen)', { timeout: 300_000 }, () => {
  it('compares two commands by name and stops everything', () => {
    const file = join(tmp, 'adhoc.json');
    const app = join(FIXTURES, 'apps', 'alloc');
    const r = cli([
      'run',
      '--command',
      'gunicorn -b 127.0.0.1:{port} -w {workers} app:application',
      '--command',
      "env ALLOC_MIB=8 gunicorn -b '127.0.0.1:{port}' -w {workers} app:application",
      '--name',
      'small',
      '--name',
      'heavy',
      '--workers',
      '2',
      '--runs',
      '1',
      '--cwd',
      app,
      '--json',
      file,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = readResults(file);
    assert.deepEqual(
      doc.variants.map((v) => v.name),
      ['small', 'heavy'],
    );
    const c = doc.summary.comparisons.find((x) => x.metric === 'workerUssBytes');
    assert.ok(c);
    // 8 MiB of touched ballast per worker shows up in its USS.
    assert.ok(-c.savingBytes > 7 * 1048576, `heavier by ${-c.savingBytes} bytes`);
    assert.deepEqual(allPids(doc).filter(isAlive), []);
  });
});

describe('an app that does not say which worker answered', { timeout: 300_000 }, () => {
  const app = join(FIXTURES, 'apps', 'alloc');
  const warmupOf = (command: string, workers: number) => {
    const file = join(tmp, `nopid-${workers}.json`);
    const r = cli(['run', '--command', command, '--workers', String(workers), '--runs', '1', '--cwd', app, '--json', file, '--verbose']);
    assert.equal(r.status, 0, r.stderr);
    const run = readResults(file).variants[0]?.runs[0];
    assert.ok(run);
    return { run, stdout: r.stdout };
  };
  it('sync workers: one held request per worker proves, and makes, every worker serve', () => {
    const { run, stdout } = warmupOf('env NO_PID_HEADER=1 gunicorn -b 127.0.0.1:{port} -w {workers} app:application', 4);
    assert.equal(run.warmup.trafficEvidence, 'connection');
    assert.deepEqual(run.warmup.idleWorkers, []);
    assert.equal(run.warmup.topUp?.requests, 4);
    assert.deepEqual(run.warmup.topUp?.statusCodes, { '200': 4 });
    assert.match(stdout, /Every worker: 4 more requests, one held open per worker/);
  });
  it('threaded workers (one may accept many): proof only when each took one, else CPU time, said so', () => {
    const { run } = warmupOf('env NO_PID_HEADER=1 gunicorn -b 127.0.0.1:{port} -w {workers} --threads 4 app:application', 3);
    // Either outcome is honest, but in both every worker must have served (by proof or by CPU time),
    // and the evidence must say which it was.
    assert.deepEqual(run.warmup.idleWorkers, []);
    assert.ok(['connection', 'cpu-time'].includes(run.warmup.trafficEvidence), run.warmup.trafficEvidence);
    assert.equal(run.warmup.topUp?.requests, run.warmup.trafficEvidence === 'connection' ? 3 : undefined);
  });
});

describe('run --json -', { timeout: 300_000 }, () => {
  it('prints only the results document on stdout; the tables go to stderr', () => {
    const r = cli([
      'run',
      '--command',
      'gunicorn -b 127.0.0.1:{port} -w {workers} app:application',
      '--workers',
      '2',
      '--runs',
      '1',
      '--cwd',
      join(FIXTURES, 'apps', 'alloc'),
      '--json',
      '-',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ResultsDocument;
    assert.equal(doc.complete, true);
    assert.match(r.stderr, /│ PSS total/);
    assert.doesNotMatch(r.stdout, /│/, 'no table on stdout');
  });
});
