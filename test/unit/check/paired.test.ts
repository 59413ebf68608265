import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_GATE, evaluateGate, type GateOptions } from '../../../src/check/gate.js';
import { holm, minimumDetectable, pairedShift, pairsToDecide, welchShift } from '../../../src/check/stats.js';
import { gateExitCode } from '../../../src/commands/check.js';
import type { ResultsDocument } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

const KiB = 1024;
const close = (a: number, b: number, eps = 1e-3) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

/** Every worker of `variant` in run i gets PSS perRun[i] KiB. */
function withWorkers(doc: ResultsDocument, variant: string, perRunKib: readonly number[]): ResultsDocument {
  const v = doc.variants.find((x) => x.name === variant);
  assert.ok(v);
  v.runs.forEach((r, i) => {
    for (const p of r.processes) if (p.role === 'worker') p.pssBytes = Math.round((perRunKib[i] as number) * KiB);
  });
  return doc;
}

/** A base and a head whose per-worker PSS is given run by run, for the 'lazy' variant; one scope. */
function pair(baseKib: number[], headKib: number[]): [ResultsDocument, ResultsDocument] {
  const n = baseKib.length;
  const base = withWorkers(makeResults({ runs: n }), 'lazy', baseKib);
  const head = withWorkers(makeResults({ runs: n }), 'lazy', headKib);
  for (const d of [base, head]) d.variants = d.variants.filter((v) => v.name === 'lazy');
  return [base, head];
}
const workerOnly: GateOptions = { ...DEFAULT_GATE, scopes: ['worker'], floorBytes: 256 * KiB, limitPercent: 0 };

describe('paired shift, by hand', () => {
  it('paired t: d = 10, 12, 11, 13, 9 against 5 — mean 11, se √(2.5/5), t(0.95, 4) = 2.1318', () => {
    const s = pairedShift([10, 12, 11, 13, 9], 5, 0.05, 0.05 / 6);
    assert.equal(s.method, 'paired-t');
    close(s.estimate, 11);
    close(s.se, Math.sqrt(0.5));
    close(s.low, 11 - 2.13185 * Math.sqrt(0.5));
    close(s.high, 11 + 2.13185 * Math.sqrt(0.5));
    // t = 6 / √0.5 = 8.485 with 4 df: p ≈ 0.00053
    close(s.pAbove, 0.000531, 2e-5);
  });
  it('exact signed rank once 2^-n can reach the strictest level: d = 1..8 — HL 4.5, 95% one-sided bounds 2.5 and 6.5, p = 1/256', () => {
    const s = pairedShift([3, 5, 1, 4, 2, 7, 6, 8], 0, 0.05, 0.05 / 6);
    assert.equal(s.method, 'signed-rank');
    close(s.estimate, 4.5);
    // P(W+ <= 5) = 10/256 <= 0.05 < P(W+ <= 6) = 14/256: the 6th smallest and 6th largest Walsh averages.
    close(s.low, 2.5);
    close(s.high, 6.5);
    close(s.pAbove, 1 / 256, 1e-9);
  });
  it('5 pairs stay with the t: an exact test cannot go below 1/32 = 0.031, and Holm over 6 rows asks 0.0083', () => {
    assert.equal(pairedShift([1, 2, 3, 4, 5], 0, 0.05, 0.05 / 6).method, 'paired-t');
    assert.equal(pairedShift([1, 2, 3, 4, 5], 0, 0.05, 0.05).method, 'signed-rank');
  });
  it("Welch's unpaired shift: means 11 and 1, variances 2.5 and 2.5", () => {
    const s = welchShift([0, 2, 1, 3, -1], [10, 12, 11, 13, 9], 0, 0.05);
    close(s.estimate, 10);
    close(s.se, 1);
    close(s.df, 8);
  });
  it("Holm's correction: 0.01, 0.04, 0.03, 0.005 become 0.03, 0.06, 0.06, 0.02", () => {
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    for (const [i, x] of [0.03, 0.06, 0.06, 0.02].entries()) close(adj[i] as number, x, 1e-12);
  });
  it('the detectable change and the runs that would decide grow as the spread does', () => {
    close(minimumDetectable(1, 5, 10, 0.05), 10 + (2.13185 + 0.94096) / Math.sqrt(5));
    assert.ok(minimumDetectable(2, 5, 10, 0.05) > minimumDetectable(1, 5, 10, 0.05));
    assert.ok(minimumDetectable(1, 10, 10, 0.05) < minimumDetectable(1, 5, 10, 0.05));
    assert.equal(pairsToDecide(10, 1, 0, 0.05), 2);
    const n = pairsToDecide(1, 1, 0, 0.05) as number;
    assert.ok(n > 3 && n < 10, String(n));
  });
});

describe('three outcomes at their boundaries (one row: per worker, threshold 256 KiB)', () => {
  const base = [45000, 45100, 44900, 45050, 44950];
  const row = (diffKib: readonly number[]) => {
    const [b, h] = pair(
      base.slice(0, diffKib.length),
      diffKib.map((d, i) => (base[i] as number) + d),
    );
    const rows = evaluateGate(b, h, workerOnly, true);
    assert.equal(rows.length, 1);
    return rows[0] as NonNullable<(typeof rows)[0]>;
  };
  it('5 pairs, one row, exact signed rank: every difference above the threshold is a regression (p = 1/32); one below it, inconclusive', () => {
    const up = row([257, 300, 270, 280, 290]);
    assert.equal(up.method, 'signed-rank');
    assert.equal(up.verdict, 'regression');
    close(up.pValue, 1 / 32, 1e-9);
    const open = row([255, 300, 270, 280, 290]);
    assert.equal(open.verdict, 'inconclusive');
    assert.ok(typeof open.pairsToDecide === 'number' && open.pairsToDecide > 5, String(open.pairsToDecide));
  });
  it('…every difference below it is a pass; one above it, inconclusive', () => {
    assert.equal(row([255, 200, 230, 220, 210]).verdict, 'pass');
    assert.equal(row([257, 200, 230, 220, 210]).verdict, 'inconclusive');
  });
  // 3 pairs: differences T + a − 10, T + a, T + a + 10 KiB; se = 10/√3, t(0.95, 2) = 2.91999: half-width 16.86 KiB.
  const half = 2.91999 * (10 / Math.sqrt(3));
  const three = (a: number) => row([256 + a - 10, 256 + a, 256 + a + 10]);
  it('3 pairs, paired t: the interval just above the threshold is a regression, just straddling it inconclusive', () => {
    assert.equal(three(half + 0.5).method, 'paired-t');
    assert.equal(three(half + 0.5).verdict, 'regression');
    assert.equal(three(half - 0.5).verdict, 'inconclusive');
  });
  it('…just below it a pass, just straddling it from below inconclusive', () => {
    assert.equal(three(-half - 0.5).verdict, 'pass');
    assert.equal(three(-half + 0.5).verdict, 'inconclusive');
  });
  it('exit codes: 1 for a regression, 4 for inconclusive, 0 for a pass', () => {
    assert.equal(gateExitCode([three(100)]), 1);
    assert.equal(gateExitCode([three(0)]), 4);
    assert.equal(gateExitCode([three(-100)]), 0);
  });
});

describe('paired against unpaired', () => {
  it('a runner that drifts by MiB between runs hides +512 KiB unpaired; paired, it is a regression', () => {
    // Each pair shares the runner's state of the moment: base and head move together by up to 3 MiB.
    const drift = [0, 3000, -2000, 1500, -1000];
    const baseKib = drift.map((x) => 45000 + x);
    const headKib = drift.map((x, i) => 45000 + x + 512 + (i % 2 ? 8 : -8));
    const [b, h] = pair(baseKib, headKib);
    const paired = evaluateGate(b, h, workerOnly, true)[0];
    const unpaired = evaluateGate(b, h, workerOnly, false)[0];
    assert.equal(paired?.verdict, 'regression', paired?.reason);
    assert.equal(paired?.method, 'signed-rank');
    assert.equal(unpaired?.verdict, 'inconclusive', unpaired?.reason);
    assert.equal(unpaired?.method, 'welch');
  });
  it('pairs run i with run i by index, whatever order the runs are listed in', () => {
    const [b, h] = pair([45000, 46000, 47000], [45600, 46600, 47600]);
    h.variants[0]?.runs.reverse();
    const row = evaluateGate(b, h, workerOnly, true)[0];
    close((row?.changeBytes ?? 0) / KiB, 600, 1);
    assert.equal(row?.verdict, 'regression');
  });
  it('3 runs per side still decide a clear change (paired t), and one run says it cannot', () => {
    const [b, h] = pair([45000, 45040, 44980], [46024, 46060, 46010]);
    assert.equal(evaluateGate(b, h, workerOnly, true)[0]?.verdict, 'regression');
    const [b1, h1] = pair([45000], [46024]);
    const one = evaluateGate(b1, h1, workerOnly, true)[0];
    assert.equal(one?.verdict, 'inconclusive');
    assert.match(one?.reason ?? '', /no spread to judge by; run 3 or more/);
  });
  it("many rows: Holm's correction keeps a row whose lone p is 0.02 from failing among 6 rows", () => {
    // 3 pairs, differences 256 + 28 ± 10 KiB: t = 28·√3/10 = 4.85 with 2 df, p ≈ 0.02; alone it fails.
    const [b, h] = pair([45000, 45100, 44900], [45274, 45384, 45194]);
    const alone = evaluateGate(b, h, workerOnly, true)[0];
    assert.equal(alone?.verdict, 'regression', alone?.reason);
    assert.ok((alone?.pValue ?? 0) > 0.05 / 6 && (alone?.pValue ?? 1) < 0.05, String(alone?.pValue));
    // USS, RSS and the master do not move: 5 more rows with p = 1; the PSS row's p is multiplied by 6.
    const many = evaluateGate(b, h, { ...workerOnly, metrics: ['pss', 'uss', 'rss'], scopes: ['worker', 'master'] }, true);
    assert.equal(many.length, 6);
    const same = many.find((r) => r.metric === 'pss' && r.scope === 'worker');
    close(same?.pAdjusted ?? 0, 6 * (alone?.pValue ?? 0), 1e-9);
    assert.equal(same?.verdict, 'inconclusive', same?.reason);
    assert.match(same?.reason ?? '', /not after Holm's correction over 6 rows/);
  });
});

describe('the practical threshold, per process', () => {
  it("a worker's and the master's rows get one floor; a total gets one per process of the base tree; the limit's percentage when larger", () => {
    const [base, head] = pair([40_000, 40_000, 40_000], [40_000, 40_000, 40_000]);
    const processes = base.variants[0]?.runs[0]?.processes.length as number;
    assert.ok(processes > 2, `fixture has ${processes} processes`);
    const rows = evaluateGate(base, head, { ...DEFAULT_GATE, scopes: ['worker', 'master', 'total'], limitPercent: 0 }, true);
    const threshold = (scope: string) => rows.find((r) => r.scope === scope)?.thresholdBytes;
    assert.equal(threshold('worker'), 256 * KiB);
    assert.equal(threshold('master'), 256 * KiB);
    assert.equal(threshold('total'), 256 * KiB * processes);
    const wide = evaluateGate(base, head, { ...DEFAULT_GATE, scopes: ['worker'], limitPercent: 5 }, true);
    assert.equal(wide[0]?.thresholdBytes, 40_000 * KiB * 0.05);
  });
});
