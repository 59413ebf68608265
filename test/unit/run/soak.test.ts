import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcessMemory, Snapshot } from '../../../src/memory.js';
import { soakWorkers } from '../../../src/results/refork.js';
import type { ProcessRecord } from '../../../src/results/types.js';
import { BudgetedSampler } from '../../../src/run/sampler.js';
import { TimelineBuilder } from '../../../src/run/soak.js';
import type { TreeSample } from '../../../src/run/tree-sample.js';
import { fakeClock } from './scripted.js';

const MiB = 1048576;

function sample(procs: Array<[number, 'master' | 'worker', number, number]>): TreeSample {
  const processes = procs.map(([pid, role, _uss, _shared]) => ({ pid, role }) as ProcessRecord);
  const memory = procs.map(
    ([pid, , uss, shared]) =>
      ({
        pid,
        pssBytes: (uss + shared / 3) * MiB,
        ussBytes: uss * MiB,
        rssBytes: (uss + shared) * MiB,
        fields: { Shared_Clean: shared * MiB, Shared_Dirty: 0 },
      }) as unknown as ProcessMemory,
  );
  const snapshot = { processes: memory, totals: { pssBytes: memory.reduce((s, p) => s + p.pssBytes, 0) } } as unknown as Snapshot;
  return { snapshot, processes, workers: processes.filter((p) => p.role === 'worker').length };
}

describe('the soak timeline', () => {
  it('is columnar: a process that appears later (a recycled worker) has nulls before, one that left has nulls after', () => {
    const t = new TimelineBuilder();
    t.add(
      0,
      0,
      sample([
        [1, 'master', 20, 40],
        [2, 'worker', 4, 48],
      ]),
    );
    t.add(
      250,
      200,
      sample([
        [1, 'master', 20, 40],
        [2, 'worker', 10, 40],
      ]),
    );
    t.add(
      500,
      400,
      sample([
        [1, 'master', 20, 40],
        [3, 'worker', 4, 48],
      ]),
    );
    const tl = t.timeline;
    assert.deepEqual(tl.tMs, [0, 250, 500]);
    assert.deepEqual(tl.requests, [0, 200, 400]);
    assert.deepEqual(
      tl.processes.map((p) => p.pid),
      [1, 2, 3],
    );
    assert.deepEqual(tl.processes[1]?.sharedBytes, [48 * MiB, 40 * MiB, null]);
    assert.deepEqual(tl.processes[2]?.ussBytes, [null, null, 4 * MiB]);
    // Only workers present from the first sample to the last count for erosion.
    assert.deepEqual(soakWorkers(tl), []);
  });

  it("a worker's erosion: the shared part lost, and copy-on-write efficiency against the master's RSS at the start", () => {
    const t = new TimelineBuilder();
    t.add(
      0,
      0,
      sample([
        [1, 'master', 20, 40],
        [2, 'worker', 4, 48],
      ]),
    );
    t.add(
      250,
      100,
      sample([
        [1, 'master', 20, 40],
        [2, 'worker', 30, 30],
      ]),
    );
    const [w] = soakWorkers(t.timeline);
    assert.deepEqual(w, {
      pid: 2,
      sharedStartBytes: 48 * MiB,
      sharedEndBytes: 30 * MiB,
      sharedLostBytes: 18 * MiB,
      ussStartBytes: 4 * MiB,
      ussEndBytes: 30 * MiB,
      cowEfficiencyPercent: 50,
    });
  });
});

describe('the budgeted sampler', () => {
  it('stretches the interval so that its CPU time stays within the budget', () => {
    const burn = () => {
      const until = process.cpuUsage().user + 5000; // 5 ms of CPU
      while (process.cpuUsage().user < until) {
        // busy
      }
      return 1;
    };
    const s = new BudgetedSampler(burn, { intervalMs: 10, maxCpu: 0.1 }, fakeClock());
    s.sample();
    // 5 ms of work at 10% of a core needs a 50 ms period: 45 ms or more of waiting, not the 10 ms asked.
    assert.ok(s.nextDelayMs() >= 40, `waits ${s.nextDelayMs()} ms`);
    const cheap = new BudgetedSampler(() => 1, { intervalMs: 100, maxCpu: 0.1 }, fakeClock());
    cheap.sample();
    assert.ok(cheap.nextDelayMs() > 95 && cheap.nextDelayMs() <= 100);
  });
});
