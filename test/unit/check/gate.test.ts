import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateGate } from '../../../src/check/gate.js';
import type { ResultsDocument, SoakRecord } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

const MiB = 1048576;

function withPeaks(doc: ResultsDocument, peaksMib: number[]): ResultsDocument {
  for (const v of doc.variants) {
    v.runs.forEach((r, i) => {
      r.soak = { peakTotalPssBytes: (peaksMib[i] as number) * MiB } as SoakRecord;
    });
  }
  return doc;
}

describe('the gate and a soak peak', () => {
  it('gates the peak total PSS when both sides soaked', () => {
    const base = withPeaks(makeResults(), [300, 301, 300]);
    const head = withPeaks(makeResults(), [340, 341, 339]);
    const rows = evaluateGate(base, head, undefined, true);
    const peak = rows.filter((r) => r.scope === 'peak');
    assert.equal(peak.length, 2, 'one row per variant');
    assert.ok(peak.every((r) => r.verdict === 'regression'));
    assert.ok(rows.filter((r) => r.scope !== 'peak').every((r) => r.verdict === 'pass'));
  });
  it('has no peak row without a soak on both sides, nor for USS or RSS', () => {
    assert.equal(evaluateGate(makeResults(), withPeaks(makeResults(), [1, 1, 1])).filter((r) => r.scope === 'peak').length, 0);
    const both = [withPeaks(makeResults(), [1, 1, 1]), withPeaks(makeResults(), [1, 1, 1])] as const;
    const rows = evaluateGate(both[0], both[1], {
      metrics: ['uss', 'rss'],
      scopes: ['peak'],
      limitPercent: 5,
      floorBytes: MiB,
      alpha: 0.05,
    });
    assert.equal(rows.length, 0);
  });
});
