import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { welch } from '../../../src/check/stats.js';
import { studentTUpper } from '../../../src/results/student.js';

const close = (a: number, b: number, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('statistics for the gate', () => {
  it('Student t upper tail matches tables', () => {
    close(studentTUpper(0, 5), 0.5);
    close(studentTUpper(2.015, 5), 0.05, 1e-3); // t(0.95, 5) = 2.015
    close(studentTUpper(2.776, 4), 0.025, 1e-3); // t(0.975, 4) = 2.776
    close(studentTUpper(1.96, 1e6), 0.025, 1e-3);
    close(studentTUpper(-2.015, 5), 0.95, 1e-3);
  });
  it("Welch's test: a clear shift is significant, overlapping noise is not", () => {
    const shifted = welch([100, 101, 99], [110, 111, 109]);
    assert.ok(shifted.pIncrease < 0.001, String(shifted.pIncrease));
    const noise = welch([100, 101, 99], [100.5, 99.5, 101]);
    assert.ok(noise.pIncrease > 0.2, String(noise.pIncrease));
    // By hand: means 6 and 2.5, variances 10 and 5/3: t = -3.5 / sqrt(10/5 + (5/3)/4), Welch–Satterthwaite df.
    const k = welch([2, 4, 6, 8, 10], [1, 2, 3, 4]);
    close(k.t, -3.5 / Math.sqrt(2 + 5 / 12));
    close(k.df, (2 + 5 / 12) ** 2 / (4 / 4 + (5 / 12) ** 2 / 3));
  });
  it('identical runs: any difference is certain, none is none', () => {
    assert.equal(welch([5, 5, 5], [6, 6, 6]).pIncrease, 0);
    assert.equal(welch([5, 5, 5], [5, 5, 5]).pIncrease, 1);
  });
});
