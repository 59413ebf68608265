import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pyFixed1, smemUnits } from '../../../src/render/units.js';

describe('smemUnits (smem -k)', () => {
  it('prints like smem', () => {
    assert.equal(smemUnits(0), '0');
    assert.equal(smemUnits(512), '512.0');
    assert.equal(smemUnits(1024), '1.0K');
    assert.equal(smemUnits(44.6 * 1048576), '44.6M');
    assert.equal(smemUnits(3 * 1073741824), '3.0G');
  });
  it('rounds exact ties to even as Python does: 1280 kB is 1.2M, not 1.3M', () => {
    assert.equal(smemUnits(1280 * 1024), '1.2M');
    assert.equal(smemUnits(1792 * 1024), '1.8M');
    assert.equal(pyFixed1(2.25), '2.2');
    assert.equal(pyFixed1(2.75), '2.8');
    assert.equal(pyFixed1(0.05), '0.1'); // not an exact tie in binary: above .05
  });
  it('agrees with Python on 2,000 kB amounts, ties included', () => {
    const values: number[] = [];
    for (let i = 0; i < 1000; i++) values.push(i * 256); // many exact .25/.75 ties
    for (let i = 0; i < 1000; i++) values.push(Math.floor(Math.abs(Math.sin(i + 1)) * 50_000_000));
    const script = [
      'import sys',
      'def units(x):',
      '    s = ""',
      '    if x == 0: return "0"',
      '    for s in ("", "K", "M", "G", "T"):',
      '        if x < 1024: break',
      '        x /= 1024.0',
      '    return "%.1f%s" % (x, s)',
      'print("\\n".join(units(int(v) * 1024) for v in sys.stdin.read().split()))',
    ].join('\n');
    const py = spawnSync('/usr/bin/python3', ['-c', script], { input: values.join(' '), encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const expected = py.stdout.trim().split('\n');
    assert.deepEqual(
      values.map((kb) => smemUnits(kb * 1024)),
      expected,
    );
  });
});
