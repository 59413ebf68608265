import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_GATE, evaluateGate } from '../../../src/check/gate.js';
import { gateLine, renderGateTable } from '../../../src/check/render.js';
import type { ResultsDocument, SoakRecord, ThroughputRecord } from '../../../src/results/types.js';
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
      throughputLimitPercent: 5,
    });
    assert.equal(rows.length, 0);
  });
});

function withThroughput(doc: ResultsDocument, rps: number[], cut = false): ResultsDocument {
  for (const v of doc.variants) {
    v.runs.forEach((r, i) => {
      r.throughput = { requestsPerSecond: rps[i] as number, ...(cut && i === 0 ? { cut: true } : {}) } as ThroughputRecord;
    });
  }
  return doc;
}

describe('the gate and the throughput phase (--metric throughput)', () => {
  const gate = { ...DEFAULT_GATE, metrics: ['throughput' as const] };
  it('a drop past the threshold (5% of the base) is the regression, in requests/s; a rise is an improvement', () => {
    const base = withThroughput(makeResults({ runs: 5 }), [1000, 1010, 990, 1005, 995]);
    const slower = withThroughput(makeResults({ runs: 5 }), [850, 860, 845, 855, 850]);
    const rows = evaluateGate(base, slower, gate, true);
    assert.equal(rows.length, 2, 'one row per variant, scope total only');
    for (const r of rows) {
      assert.equal(r.unit, 'requests/s');
      assert.equal(r.scope, 'total');
      assert.equal(r.verdict, 'regression', r.reason);
      assert.ok(r.changeBytes < -100 && r.changePercent < -10, `${r.changeBytes} (${r.changePercent}%)`);
      assert.ok(r.lowBytes <= r.changeBytes && r.changeBytes <= r.highBytes);
      assert.ok(Math.abs(r.thresholdBytes - 50) < 1, String(r.thresholdBytes));
    }
    assert.match(gateLine(rows), /FAIL — .*Requests\/s \(throughput phase\) -1\d\d requests\/s \(-1\d\.\d%\)/);
    assert.match(renderGateTable(rows, 200), /requests\/s/);
    const faster = evaluateGate(slower, base, gate, true);
    assert.ok(
      faster.every((r) => r.verdict === 'improvement'),
      JSON.stringify(faster.map((r) => r.reason)),
    );
    const same = evaluateGate(base, withThroughput(makeResults({ runs: 5 }), [1002, 1006, 995, 1001, 998]), gate, true);
    assert.ok(
      same.every((r) => r.verdict === 'pass'),
      JSON.stringify(same.map((r) => r.reason)),
    );
  });
  it('off by default; no row where a run has no whole phase (turned off, or cut)', () => {
    const base = withThroughput(makeResults(), [1000, 1010, 990]);
    const head = withThroughput(makeResults(), [500, 500, 500]);
    assert.equal(evaluateGate(base, head, undefined, true).filter((r) => r.metric === 'throughput').length, 0);
    assert.equal(evaluateGate(base, withThroughput(makeResults(), [500, 500, 500], true), gate, true).length, 0);
    assert.equal(evaluateGate(makeResults(), head, gate, true).length, 0);
  });
});
