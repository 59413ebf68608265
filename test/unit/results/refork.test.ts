import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cowEfficiency, reforkGenerations } from '../../../src/results/refork.js';
import type { ReplacementRecord, Timeline } from '../../../src/results/types.js';

const MiB = 1048576;

describe('a refork in a soak: the generations', () => {
  it('total PSS before, right after (every new worker there) and at the end', () => {
    // Master 10 MiB; worker 0 (pid 2) stays; workers 3 and 4 leave after sample 2, 5 and 6 appear at 3 (small) and grow.
    const col = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : x * MiB));
    const t: Timeline = {
      tMs: [0, 500, 1000, 1500, 2000, 2500],
      requests: [0, 100, 200, 300, 400, 500],
      processes: [
        {
          pid: 1,
          role: 'master',
          pssBytes: col([10, 10, 10, 10, 10, 10]),
          ussBytes: col([5, 5, 5, 5, 5, 5]),
          rssBytes: [],
          sharedBytes: [],
        },
        {
          pid: 2,
          role: 'worker',
          pssBytes: col([30, 30, 30, 20, 25, 28]),
          ussBytes: col([5, 5, 5, 5, 5, 5]),
          rssBytes: [],
          sharedBytes: [],
        },
        {
          pid: 3,
          role: 'worker',
          pssBytes: col([40, 40, 40, null, null, null]),
          ussBytes: col([20, 20, 20, null, null, null]),
          rssBytes: [],
          sharedBytes: [],
        },
        {
          pid: 4,
          role: 'worker',
          pssBytes: col([40, 40, 40, null, null, null]),
          ussBytes: col([20, 20, 20, null, null, null]),
          rssBytes: [],
          sharedBytes: [],
        },
        {
          pid: 5,
          role: 'worker',
          pssBytes: col([null, null, null, 8, 20, 30]),
          ussBytes: col([null, null, null, 1, 8, 12]),
          rssBytes: [],
          sharedBytes: [],
        },
        {
          pid: 6,
          role: 'worker',
          pssBytes: col([null, null, null, 8, 20, 30]),
          ussBytes: col([null, null, null, 1, 8, 12]),
          rssBytes: [],
          sharedBytes: [],
        },
      ],
    };
    const r = (oldPid: number, newPid: number): ReplacementRecord => ({
      tMs: 1500,
      oldPid,
      newPid,
      oldRequests: 100,
      oldLastUssBytes: 20 * MiB,
      oldExitPeakUssBytes: null,
      newUssAtBirthBytes: MiB,
      newUssAfterBytes: 8 * MiB,
      wholeAgainMs: 500,
      cause: 'refork',
    });
    const g = reforkGenerations(t, [r(3, 5), r(4, 6)]);
    assert.deepEqual(g, { tMs: 1500, workers: 2, beforeBytes: 120 * MiB, afterBytes: 46 * MiB, endBytes: 98 * MiB });
    assert.equal(reforkGenerations(t, [{ ...r(3, 5), cause: 'died' }]), undefined, 'a death is no refork');
  });

  // A fork_worker tree, scripted: master 1 (RSS 20), mold 2 (worker 0, the master's child), workers 3 and 4 forked
  // from the mold, replaced at sample 3 by 5 and 6 (forked from the warm mold). Each served 100 requests a sample.
  const MiB_ = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : x * MiB));
  const served = (xs: (number | null)[]) => xs;
  const forkTree = (newUss: (number | null)[]): Timeline => ({
    tMs: [0, 500, 1000, 1500, 2000, 2500, 3000],
    requests: [0, 300, 600, 900, 1200, 1500, 1800],
    processes: [
      { pid: 1, role: 'master', pssBytes: [], ussBytes: [], rssBytes: MiB_([20, 20, 20, 20, 20, 20, 20]), sharedBytes: [] },
      {
        pid: 2,
        role: 'worker',
        ppid: 1,
        pssBytes: [],
        ussBytes: MiB_([5, 6, 7, 8, 9, 10, 11]),
        rssBytes: MiB_([100, 100, 100, 100, 100, 100, 100]),
        sharedBytes: MiB_([95, 94, 93, 92, 91, 90, 89]),
        served: served([0, 100, 200, 300, 400, 500, 600]),
      },
      ...[3, 4].map((pid) => ({
        pid,
        role: 'worker' as const,
        ppid: 2,
        pssBytes: MiB_([40, 40, 40, null, null, null, null]),
        // 10 MiB at fork + warm-up, +10 MiB each 100 requests: 10, 20, 30 at 0, 100, 200 served in the soak.
        ussBytes: MiB_([10, 20, 30, null, null, null, null]),
        rssBytes: MiB_([100, 100, 100, null, null, null, null]),
        sharedBytes: MiB_([90, 80, 70, null, null, null, null]),
        served: served([0, 100, 200, null, null, null, null]),
      })),
      ...[5, 6].map((pid) => ({
        pid,
        role: 'worker' as const,
        ppid: 2,
        pssBytes: MiB_([null, null, null, 8, 20, 30, 40]),
        ussBytes: MiB_(newUss),
        rssBytes: MiB_([null, null, null, 100, 100, 100, 100]),
        sharedBytes: MiB_([null, null, null, 99, 90, 80, 70]),
        served: served([null, null, null, 10, 100, 200, 300]),
      })),
    ],
  });
  const reforked = (oldPid: number, newPid: number): ReplacementRecord => ({
    tMs: 1500,
    oldPid,
    newPid,
    oldRequests: 200,
    oldLastUssBytes: 30 * MiB,
    oldExitPeakUssBytes: null,
    newUssAtBirthBytes: MiB,
    newUssAfterBytes: null,
    wholeAgainMs: 0,
    cause: 'refork',
  });
  const refork = [reforked(3, 5), reforked(4, 6)];

  it('the generations at equal depth (requests since each fork, the warm-up counted): the saving, and when it stops', () => {
    // Old workers served 10 warm-up requests each: 20 MiB at depth 110. New ones at depth 100 hold 12 MiB (old: 19),
    // at 200 they hold 29.5 (old: 29): the refork paid 7 MiB each at first, and under half a MiB from 200 on.
    const g = reforkGenerations(forkTree([null, null, null, 2, 12, 29.5, 40]), refork, () => 10);
    assert.ok(g?.equalDepth);
    assert.deepEqual(
      g.equalDepth.map((r) => [r.requests, r.oldUssBytes / MiB, r.newUssBytes / MiB, r.savingBytesPerWorker / MiB]),
      [
        [10, 10, 2, 8],
        [100, 19, 12, 7],
        [200, 29, 29.5, -0.5],
      ],
      'depth 300 is past the old generation: not compared',
    );
    assert.equal(g.stopsPayingAfter, 200);
    // Still paying at the last depth compared: null.
    assert.equal(reforkGenerations(forkTree([null, null, null, 2, 12, 20, 40]), refork, () => 10)?.stopsPayingAfter, null);
    // A dip under the threshold that recovers is not where it stopped.
    const dip = reforkGenerations(forkTree([null, null, null, 9.8, 12, 20, 40]), refork, () => 10);
    assert.equal(dip?.stopsPayingAfter, null);
    // Without the worker-pid header (no requests served per worker) there is nothing to compare at equal depth.
    const t = forkTree([null, null, null, 2, 12, 20, 40]);
    for (const p of t.processes) delete p.served;
    assert.equal(reforkGenerations(t, refork)?.equalDepth, undefined);
  });

  it("copy-on-write efficiency: a worker's shared part over the RSS of the worker it was forked from, per generation", () => {
    const c = cowEfficiency(forkTree([null, null, null, 2, 12, 20, 40]), refork, () => 10);
    assert.equal(c?.parent, 'worker', 'the mold, not the 20 MiB master: the efficiency stays under 100%');
    assert.deepEqual(
      c?.points.map((p) => [p.generation, p.requests, p.percent]),
      [
        [0, 10, 90],
        [0, 110, 80],
        [0, 210, 70],
        [1, 10, 99],
        [1, 100, 90],
        [1, 200, 80],
        [1, 300, 70],
      ],
      'the mold itself (worker 0) is the parent, not a member',
    );
    // Workers forked from the master: its RSS is the parent's.
    const plain = forkTree([null, null, null, 2, 12, 20, 40]);
    plain.processes = plain.processes.filter((p) => p.pid !== 2 && p.pid < 5).map((p) => ({ ...p, ppid: 1 }));
    const m = cowEfficiency(plain, []);
    assert.equal(m?.parent, 'master');
    assert.deepEqual(
      m?.points.map((p) => p.percent),
      [450, 400, 350],
    );
  });
});
