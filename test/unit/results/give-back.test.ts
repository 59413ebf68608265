import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyGiveBack, copiedFraction, savingAfterGiveBack } from '../../../src/results/give-back.js';
import { notProbed } from '../../../src/results/imports.js';
import type { RunRecord, VariantResult } from '../../../src/results/types.js';

const MiB = 1048576;
const amounts = (rss: number, uss: number) => ({ pssBytes: uss, ussBytes: uss * MiB, rssBytes: rss * MiB, swapBytes: 0 });

/** A run whose breakdown holds only the heap group: the master's resident heap, a worker's resident and private heap (MiB). */
function runWith(masterRss: number, workerRss: number, workerUss: number): RunRecord {
  const heap = {
    name: 'heap and anonymous',
    master: amounts(masterRss, masterRss),
    workersSum: amounts(0, 0),
    workerMean: amounts(workerRss, workerUss),
  };
  return { mappings: { readMs: 1, groups: [heap], top: [] } } as unknown as RunRecord;
}

function probed(name: string, preloaded: boolean | undefined, perWorkerMiB: number, runs: RunRecord[]): VariantResult {
  const im = {
    ...notProbed(''),
    method: 'sitecustomize',
    workers: 4,
    afterForkBytesPerWorker: perWorkerMiB * MiB,
    predictedSavingBytes: 3 * perWorkerMiB * MiB,
  };
  delete (im as { reason?: string }).reason;
  return {
    name,
    command: [],
    env: {},
    runs,
    imports: {
      ...im,
      ...(preloaded !== undefined ? { preloaded } : {}),
      ...(preloaded === false ? { predictedPreloadSavingBytes: im.predictedSavingBytes } : {}),
    },
  } as VariantResult;
}

describe('results: copy-on-write give-back taken off the import predictions', () => {
  it('the copied share: what a worker no longer shares of its master heap, at most its private heap less its own after-fork imports', () => {
    // A Django project under --preload (measured): master heap 35.0 MiB resident, a worker 36.7 resident of which
    // 13.2 private; its after-fork imports 3.37 MiB a worker.
    const f = copiedFraction(runWith(35, 36.7, 13.2), 3.37 * MiB);
    assert.ok(f !== undefined && Math.abs(f - 9.83 / 35) < 0.001, String(f));
    assert.ok(Math.abs((copiedFraction(runWith(35, 36.7, 13.2)) ?? 0) - 11.5 / 35) < 0.001, 'no imports: the unshared pages');
    // A worker that imports 27 MiB after the fork copies most of its master's small heap doing so: not give-back.
    assert.ok((copiedFraction(runWith(20, 47, 40), 38 * MiB) ?? 1) <= 0.1);
    assert.equal(copiedFraction({} as RunRecord), undefined, 'no breakdown, no fraction');
    assert.equal(copiedFraction(runWith(10, 30, 0)), 0, 'clamped at 0');
  });

  it('the saving is the workers’ copies made one, less what each copies back', () => {
    assert.equal(savingAfterGiveBack(10 * MiB, 4, 0), 30 * MiB);
    assert.equal(savingAfterGiveBack(10 * MiB, 4, 0.25), 20 * MiB);
    assert.equal(savingAfterGiveBack(10 * MiB, 4, 0.9), 0, 'never negative');
  });

  it('a preloaded variant takes its own fraction; a lazy one the preloaded variant’s; with none the prediction stays an upper bound', () => {
    const lazy = probed('lazy', false, 28.8, [runWith(17.5, 36.7, 31.1)]);
    const preload = probed('preload', true, 3.37, [runWith(35, 36.7, 13.2), runWith(35, 36.7, 13.2), runWith(35, 37, 13)]);
    const unknown = probed('other', undefined, 5, [runWith(20, 20, 10)]);
    applyGiveBack([lazy, preload, unknown]);
    assert.equal(preload.imports?.giveBack?.from, 'preload');
    assert.equal(lazy.imports?.giveBack?.from, 'preload', 'the lazy variant’s own heap says nothing of a preloaded one');
    assert.equal(lazy.imports?.giveBack?.beforeBytes, 3 * 28.8 * MiB);
    // (4 × (1 − 0.281) − 1) × 28.8 MiB: 54.0 MiB, where the measured saving of --preload on that project was 55.2 MiB (82.5 before).
    const lazySaving = (lazy.imports?.predictedSavingBytes ?? 0) / MiB;
    assert.ok(Math.abs(lazySaving - 54.0) < 0.2, String(lazySaving));
    assert.equal(lazy.imports?.predictedPreloadSavingBytes, lazy.imports?.predictedSavingBytes);
    assert.ok(
      Math.abs((preload.imports?.predictedSavingBytes ?? 0) / MiB - 6.32) < 0.05,
      String((preload.imports?.predictedSavingBytes ?? 0) / MiB),
    );
    assert.equal(unknown.imports?.giveBack, undefined, 'a variant that may or may not preload gets no fraction');
    assert.equal(unknown.imports?.predictedSavingBytes, 15 * MiB);
  });

  it('a lazy variant with no preloaded variant beside it keeps its prediction', () => {
    const lazy = probed('lazy', false, 10, [runWith(17.5, 36.7, 31.1)]);
    applyGiveBack([lazy]);
    assert.equal(lazy.imports?.giveBack, undefined);
    assert.equal(lazy.imports?.predictedSavingBytes, 30 * MiB);
  });
});
