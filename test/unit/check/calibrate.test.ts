import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALIBRATE_RUNS, calibrate } from '../../../src/check/calibrate.js';
import { DEFAULT_GATE, type GateOptions } from '../../../src/check/gate.js';
import { renderCalibration } from '../../../src/check/render.js';
import { minimumDetectable } from '../../../src/check/stats.js';
import { untilDecided } from '../../../src/commands/run.js';
import type { ResultsDocument, VariantResult } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

const KiB = 1024;
const same = { ref: 'working tree', commit: '', dirty: false };

/** One variant measured as base and head (an A/A or a baseline-ref document): every worker's PSS run by run, KiB. */
function aa(baseKib: readonly number[], headKib: readonly number[]): ResultsDocument {
  const doc = makeResults({ runs: Math.max(baseKib.length, headKib.length) });
  const lazy = doc.variants.find((v) => v.name === 'lazy') as VariantResult;
  const side = (name: string, role: 'base' | 'head', kib: readonly number[]): VariantResult => ({
    ...structuredClone(lazy),
    name,
    revision: { role, ...same },
    runs: structuredClone(lazy.runs)
      .slice(0, kib.length)
      .map((r, i) => {
        for (const p of r.processes) if (p.role === 'worker') p.pssBytes = Math.round((kib[i] as number) * KiB);
        return r;
      }),
  });
  doc.variants = [side('lazy@base', 'base', baseKib), side('lazy', 'head', headKib)];
  return doc;
}
const workerOnly: GateOptions = { ...DEFAULT_GATE, scopes: ['worker'] };
const base12 = [40000, 40010, 39990, 40005, 39995, 40000, 40002, 39998, 40001, 40003, 39997, 40000];
const noise12 = [3, -2, 5, -4, 1, 0, 2, -3, 4, -1, -5, 2];

describe('calibrate: A/A comparisons cut from one interleaved run', () => {
  it('12 runs at 3 per side: 4 comparisons; a 13th, unfinished on one side, is not one', () => {
    const head = base12.map((b, i) => b + (noise12[i] as number));
    const c = calibrate(aa([...base12, 40000], head), 3, workerOnly);
    assert.deepEqual(
      c.comparisons.map((x) => x.index),
      [1, 2, 3, 4],
    );
    assert.equal(c.falseAlarms, 0);
    // Noise a few KiB against a 256 KiB threshold: every comparison passes.
    assert.equal(c.undecided, 0);
  });
  it('the noise is the standard deviation of the paired differences, by hand; detectable at 3, 5, 10 runs from it', () => {
    const head = base12.map((b, i) => b + (noise12[i] as number));
    const c = calibrate(aa(base12, head), 3, workerOnly);
    const [row] = c.noise;
    assert.ok(row);
    const mean = noise12.reduce((a, x) => a + x, 0) / 12;
    const sd = Math.sqrt(noise12.reduce((a, x) => a + (x - mean) ** 2, 0) / 11) * KiB;
    assert.ok(Math.abs(row.noiseBytes - sd) < 2, `${row.noiseBytes} vs ${sd}`);
    assert.equal(row.pairs, 12);
    assert.equal(row.thresholdBytes, 256 * KiB);
    assert.deepEqual(
      row.detectable.map((d) => d.runs),
      [...CALIBRATE_RUNS],
    );
    for (const d of row.detectable) assert.equal(d.bytes, minimumDetectable(row.noiseBytes, d.runs, 256 * KiB, 0.05));
    assert.ok((row.detectable[0]?.bytes as number) > (row.detectable[2]?.bytes as number), 'more runs see less');
  });
  it('a shifted comparison is counted as a false alarm, and only that one', () => {
    // Runs 4–6 of the head 1 MiB higher: comparison 2 is a regression, the others pass.
    const head = base12.map((b, i) => b + (noise12[i] as number) + (i >= 3 && i < 6 ? 1024 : 0));
    const c = calibrate(aa(base12, head), 3, workerOnly);
    assert.equal(c.falseAlarms, 1);
    assert.deepEqual(
      c.comparisons.map((x) => x.regressions),
      [0, 1, 0, 0],
    );
    const text = renderCalibration(c, 'fixture', 120);
    assert.match(text, /false alarms \(a regression on unchanged code\): 1 of 4 \(25%\)/);
    assert.match(text, /A\/A comparisons of 3 runs per side/);
  });
  it('a document without base and head has nothing to calibrate', () => {
    assert.equal(calibrate(makeResults(), 3, workerOnly).comparisons.length, 0);
  });
});

describe('run --until-decided: one more round while a gate row is undecided', () => {
  const quiet = undefined;
  it('undecided (one run: no spread) asks for another round; at the bound it stops', () => {
    const doc = aa([40000], [40000]);
    assert.equal(untilDecided(5, quiet)(doc, 1), true);
    assert.equal(untilDecided(1, quiet)(doc, 1), false);
  });
  it('decided rows end it: a pass, and a clear regression', () => {
    const head = base12.slice(0, 5).map((b, i) => b + (noise12[i] as number));
    assert.equal(untilDecided(50, quiet)(aa(base12.slice(0, 5), head), 5), false);
    const up = base12.slice(0, 5).map((b) => b + 4096);
    assert.equal(untilDecided(50, quiet)(aa(base12.slice(0, 5), up), 5), false);
  });
  it('a shift near the threshold stays undecided at 3 runs: more rounds', () => {
    // +256 KiB ± a few: the interval straddles the 256 KiB threshold.
    const head = base12.slice(0, 3).map((b, i) => b + 256 + (noise12[i] as number) * 10);
    assert.equal(untilDecided(50, quiet)(aa(base12.slice(0, 3), head), 3), true);
  });
});
