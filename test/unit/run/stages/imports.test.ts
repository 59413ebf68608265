import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPORTERS } from '../../../../src/export/index.js';
import { renderRunSummary } from '../../../../src/render/terminal.js';
import type { ImportProcess } from '../../../../src/results/imports.js';
import { runScenario } from '../../../../src/run/engine.js';
import type { ServerFamily } from '../../../../src/servers/family.js';
import { familyNamed } from '../../../../src/servers/registry.js';
import { makeWorld, scenarioOf } from '../world.js';

const MiB = 1048576;
const rec = (module: string, parent: string | null, mib: number) => ({
  module,
  parent,
  inclusiveBytes: mib * MiB,
  exclusiveBytes: mib * MiB,
  ms: 2,
  afterFork: false,
});

describe('stage: imports (run --imports)', () => {
  it('one probed boot per variant after the measured runs: the master tree, the after-fork imports, the predicted saving', async () => {
    // The master imports numpy; each worker imports matplotlib.pyplot in a view, after the fork.
    const world = makeWorld({
      imports: (server): ImportProcess[] => [
        { pid: server.handle.pid, ppid: 1, forked: false, startPrivateBytes: 4 * MiB, imports: [rec('numpy', null, 16)] },
        ...server.workers.map((pid, i) => ({
          pid,
          ppid: server.handle.pid,
          forked: true,
          startPrivateBytes: 0,
          imports: [rec('matplotlib.figure', 'matplotlib.pyplot', 6), rec('matplotlib.pyplot', null, 27 + i)],
        })),
      ],
    });
    const scenario = { ...scenarioOf(['lazy', 'eager'], 2), server: 'gunicorn' };
    const doc = await runScenario(scenario, { imports: true, family: familyNamed('gunicorn') as ServerFamily }, world.deps);
    for (const v of doc.variants) assert.equal(v.runs.length, 2, 'the probed boot is not a run; the applied variants have as many runs');
    const im = doc.variants[0]?.imports;
    assert.ok(im?.method);
    assert.equal(im.master.totalBytes, 16 * MiB);
    assert.deepEqual(
      im.afterFork.map((a) => [a.module, a.bytesPerWorker / MiB, a.workers.length]),
      [['matplotlib.pyplot', 27.5, 2]],
    );
    assert.equal(im.predictedSavingBytes, 27.5 * MiB);
    assert.equal(im.preloaded, false, 'gunicorn without --preload');
    // Every probed server had the probe's environment; the measured ones did not; the probe was removed each time.
    const probed = world.servers.filter((s) => s.request.env.MEMCOMPARE_IMPORTS_DIR);
    assert.equal(probed.length, 2);
    // The advice applied: each variant again, twice, with pyplot imported before the fork.
    const early = world.servers.filter((s) => s.request.env.MEMCOMPARE_EARLY_MODULES);
    assert.equal(early.length, 4);
    assert.ok(early.every((s) => s.request.env.MEMCOMPARE_EARLY_MODULES === 'matplotlib.pyplot'));
    assert.equal(world.servers.length, 10);
    assert.deepEqual(
      doc.variants.map((v) => v.name),
      ['lazy', 'eager', 'lazy+early-imports', 'eager+early-imports'],
    );
    assert.deepEqual(doc.variants[2]?.earlyImports?.imported, ['matplotlib.pyplot']);
    assert.equal(im.applied?.variant, 'lazy+early-imports');
    assert.equal(im.applied?.predictedSavingBytes, 27.5 * MiB);
    assert.equal(typeof im.applied?.measuredSavingBytes, 'number');
    assert.equal(world.events.filter((e) => e === 'early imports removed').length, 2);
    assert.equal(world.events.filter((e) => e === 'probe removed').length, 2);
    assert.ok(world.servers.every((s) => s.stopped));
    // The reports: the lines, and the master's tree (the HTML one foldable).
    const md = await EXPORTERS.markdown?.render(doc, { assetPrefix: undefined });
    assert.match(md?.text ?? '', /## Imports \(run --imports\)[\s\S]*- 16\.0 MiB `numpy`/);
    const html = await EXPORTERS.html?.render(doc, { assetPrefix: undefined });
    assert.match(html?.text ?? '', /<section id="imports">.*<div class="import">16\.0 MiB <code>numpy<\/code><\/div>/);
    assert.match(
      renderRunSummary(doc),
      /lazy: the master imported 16\.0 MiB before the fork .* each of 2 workers imported 27\.5 MiB after it \(matplotlib\.pyplot 27\.5 MiB\): preloading the app would save ~27\.5 MiB/,
    );
    assert.match(
      renderRunSummary(doc),
      /\n {2}- applied: lazy\+early-imports imports matplotlib\.pyplot before the fork: measured saving .* predicted 27\.5 MiB/,
      'nested under its variant',
    );
    // No preloaded variant measured a give-back here (the scripted runs have no breakdown): an upper bound, said.
    assert.match(
      renderRunSummary(doc),
      /~27\.5 MiB in total; an upper bound: copy-on-write's give-back is measured only on a preloaded variant/,
    );
  });

  it('a family whose interpreter is not instrumented says why, and boots nothing more', async () => {
    const world = makeWorld();
    const scenario = { ...scenarioOf(['a'], 1), server: 'php-fpm' };
    const doc = await runScenario(scenario, { imports: true, family: familyNamed('php-fpm') as ServerFamily }, world.deps);
    assert.equal(doc.variants[0]?.imports?.method, null);
    assert.match(doc.variants[0]?.imports?.reason ?? '', /PHP compiles/);
    assert.equal(world.servers.length, 1);
    assert.match(renderRunSummary(doc), /a: not probed: PHP compiles/);
  });
});
