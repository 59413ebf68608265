import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVariants, median, spread } from '../../../src/results/aggregate.js';
import type { VariantSummary } from '../../../src/results/types.js';

describe('aggregate', () => {
  it('median and spread', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.deepEqual(spread([100, 102, 98]), { median: 100, min: 98, max: 102, spreadPercent: 4 });
  });
  it('compares each variant with the first: saving, ratio and its widest range', () => {
    const s = (name: string, m: number, min: number, max: number) => {
      const sp = { median: m, min, max, spreadPercent: 0 };
      return {
        name,
        runs: 3,
        workers: 5,
        workerPssBytes: sp,
        workerUssBytes: sp,
        workerRssBytes: sp,
        masterPssBytes: sp,
        masterUssBytes: sp,
        masterRssBytes: sp,
        totalPssBytes: sp,
        totalUssBytes: sp,
        totalRssBytes: sp,
        totalPssAnonBytes: sp,
      } satisfies VariantSummary;
    };
    const [c] = compareVariants([s('a', 200, 190, 210), s('b', 50, 40, 60)]);
    assert.ok(c);
    assert.equal(c.savingBytes, 150);
    assert.equal(c.savingPercent, 75);
    assert.equal(c.ratio, 0.25);
    assert.equal(c.ratioMin, 40 / 210);
    assert.equal(c.ratioMax, 60 / 190);
  });
});
