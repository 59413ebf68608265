import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reforkGenerations } from '../../../src/results/refork.js';
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
});
