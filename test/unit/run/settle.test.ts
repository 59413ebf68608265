import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../../src/memory.js';
import type { ProcessRecord } from '../../../src/results/types.js';
import { settle } from '../../../src/run/settle.js';
import type { TreeSample } from '../../../src/run/tree-sample.js';
import { fakeClock, fakeServer } from './scripted.js';

const MiB = 1048576;
const SETTINGS = { intervalMs: 50, tolerancePercent: 0.1, stableSamples: 3, timeoutMs: 20_000 };

/** A sample of a tree with `workers` workers and this total PSS (MiB). */
function sample(totalMiB: number, workers = 2, pids?: number[]): TreeSample {
  const ids = pids ?? [100, ...Array.from({ length: workers }, (_, i) => 101 + i)];
  const processes = ids.map((pid) => ({ pid, role: pid === 100 ? 'master' : 'worker', pssBytes: 0 }) as ProcessRecord);
  const snapshot = { totals: { pssBytes: totalMiB * MiB } } as unknown as Snapshot;
  return { snapshot, processes, workers: processes.filter((p) => p.role === 'worker').length };
}

function scripted(samples: TreeSample[]) {
  let i = 0;
  return { server: fakeServer(), sample: () => samples[Math.min(i++, samples.length - 1)] as TreeSample, taken: () => i };
}

describe('settling on scripted samples', () => {
  it('waits while total PSS grows (an app that allocates after its first response) and returns the still value', async () => {
    const t = scripted([100, 110, 120, 130, 140, 150, 150, 150, 150].map((m) => sample(m)));
    const { sample: last, record } = await settle(t, 2, SETTINGS, undefined, fakeClock());
    assert.equal(last.snapshot.totals.pssBytes, 150 * MiB);
    assert.equal(record.settled, true);
    assert.equal(record.samples, 9);
    assert.deepEqual(
      record.totalPssHistoryBytes.map((b) => b / MiB),
      [100, 110, 120, 130, 140, 150, 150, 150, 150],
    );
  });

  it('is not still while the worker count is not the expected one, or the set of processes changes', async () => {
    const t = scripted([
      sample(100, 1),
      sample(100, 1),
      sample(100, 1),
      sample(100, 2),
      sample(100, 2, [100, 101, 105]),
      ...Array(4).fill(sample(100, 2)),
    ]);
    const { record } = await settle(t, 2, SETTINGS, undefined, fakeClock());
    assert.equal(record.samples, 9, `settled after ${record.samples} samples`);
  });

  it('gives up at the bound and says it did not settle', async () => {
    const t = scripted(Array.from({ length: 1000 }, (_, k) => sample(100 + k)));
    const { record } = await settle(t, 2, { ...SETTINGS, timeoutMs: 1000 }, undefined, fakeClock());
    assert.equal(record.settled, false);
    assert.ok(record.lastChangePercent > 0.1);
  });
});
