import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-run-imports-');

// One app two ways: matplotlib.pyplot imported inside the view (each worker imports it on its first
// request, after the fork) or at the top (the preloaded master imports it once).
const VIEW = `import os
import numpy  # noqa: F401


def application(environ, start_response):
    import matplotlib.pyplot  # noqa: F401  (inside the view, to start fast)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2"), ("X-Worker-Pid", str(os.getpid()))])
    return [b"ok"]
`;
const TOP = VIEW.replace('import numpy  # noqa: F401\n', 'import numpy  # noqa: F401\nimport matplotlib.pyplot  # noqa: F401\n').replace(
  '    import matplotlib.pyplot  # noqa: F401  (inside the view, to start fast)\n',
  '',
);

const hashOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir).map((n) => [
      n,
      createHash('sha256')
        .update(readFileSync(join(dir, n)))
        .digest('hex'),
    ]),
  );
const probeDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('memcompare-imports-'));

describe('run --imports: what the workers import after the fork', { timeout: 400_000 }, () => {
  it('a view that imports matplotlib: named with its cost per worker, the saving predicted within 25% of the measured one; imported at the top, not named', () => {
    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'view.py'), VIEW);
    writeFileSync(join(app, 'top.py'), TOP);
    const before = hashOf(app);
    const dirsBefore = probeDirs();
    const earlyBefore = readdirSync(tmpdir()).filter((n) => n.startsWith('memcompare-early-'));
    const scenario = join(tmp, 'scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'import-in-view',
        server: 'gunicorn',
        app,
        command: ['gunicorn', '--bind=127.0.0.1:{port}', '--workers=4', '--preload'],
        workers: 4,
        variants: [
          { name: 'in-view', args: ['view:application'] },
          { name: 'at-top', args: ['top:application'] },
        ],
        warmup: { requests: 40, connections: 8, workerPidHeader: 'X-Worker-Pid' },
        runs: 1,
        throughput: false,
      }),
    );
    const out = join(tmp, 'out.json');
    const r = cli(['run', scenario, '--imports', '--json', out, '--no-lock'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as ResultsDocument;
    const view = doc.variants.find((v) => v.name === 'in-view');
    const top = doc.variants.find((v) => v.name === 'at-top');
    assert.ok(view?.imports && top?.imports);
    assert.equal(view.runs.length, 1, 'the probed boot is not a run');
    const plot = view.imports.afterFork.find((a) => a.module === 'matplotlib.pyplot');
    assert.ok(plot, JSON.stringify(view.imports.afterFork.slice(0, 5)));
    assert.equal(plot.workers.length, 4);
    assert.ok(plot.bytesPerWorker > 10 * 1048576, `${plot.bytesPerWorker} bytes per worker`);
    assert.equal(
      top.imports.afterFork.some((a) => a.module.startsWith('matplotlib')),
      false,
      JSON.stringify(top.imports.afterFork.slice(0, 5)),
    );
    // The hand measurement: the same app importing it at the top, measured beside it.
    const total = (name: string) => doc.summary.variants.find((s) => s.name === name)?.totalPssBytes.median ?? Number.NaN;
    const measured = total('in-view') - total('at-top');
    const predicted = view.imports.predictedSavingBytes;
    assert.ok(Math.abs(predicted - measured) / measured <= 0.25, `predicted ${predicted}, measured ${measured}`);
    assert.match(r.stdout, /in-view: the master imported .* each of 4 workers imported .* after it \(matplotlib\.pyplot/);
    // The advice applied: in-view again with pyplot imported before the fork, measured like the others.
    const applied = doc.variants.find((v) => v.name === 'in-view+early-imports');
    assert.ok(applied, doc.variants.map((v) => v.name).join(', '));
    assert.equal(applied.runs.length, 1);
    assert.ok(applied.earlyImports?.imported.includes('matplotlib.pyplot'), JSON.stringify(applied.earlyImports));
    const verified = view.imports.applied;
    assert.ok(verified);
    assert.ok(
      Math.abs(verified.measuredSavingBytes - measured) / measured <= 0.15,
      `applied saved ${verified.measuredSavingBytes}, importing at the top ${measured}`,
    );
    assert.match(
      r.stdout,
      /applied: in-view\+early-imports imports matplotlib\.pyplot.* before the fork: measured saving [\d.]+ MiB, predicted [\d.]+ MiB/,
    );
    assert.deepEqual(hashOf(app), before, "the app's files are unchanged");
    assert.deepEqual(probeDirs(), dirsBefore, 'the probe left nothing behind');
    assert.deepEqual(
      readdirSync(tmpdir()).filter((n) => n.startsWith('memcompare-early-')),
      earlyBefore,
      'nor the early imports',
    );
  });
});
