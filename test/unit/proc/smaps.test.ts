import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deriveAmounts, formatCmdline, parseRollup, parseStatus, sumSmaps } from '../../../src/proc/smaps.js';
import { FIXTURES } from '../../helpers.js';

const rollup = readFileSync(join(FIXTURES, 'proc', '100', 'smaps_rollup'), 'utf8');
const smaps = readFileSync(join(FIXTURES, 'proc', '200', 'smaps'), 'utf8');

describe('parseRollup', () => {
  it('keeps every kB field, in bytes, by name', () => {
    const f = parseRollup(rollup);
    assert.equal(f.Rss, 66640 * 1024);
    assert.equal(f.Pss, 46380 * 1024);
    assert.equal(f.Pss_Anon, 40100 * 1024);
    assert.equal(f.SwapPss, 6 * 1024);
    assert.equal(Object.keys(f).length, 22);
  });
  it('reads fields by name wherever a newer kernel puts them', () => {
    const shuffled = ['Pss_Future:  7 kB', ...rollup.split('\n').reverse()].join('\n');
    const f = parseRollup(shuffled);
    assert.equal(f.Pss, 46380 * 1024);
    assert.equal(f.Pss_Future, 7 * 1024);
  });
  it('derives smem amounts: USS = Private_Clean + Private_Dirty', () => {
    const d = deriveAmounts(parseRollup(rollup));
    assert.equal(d.ussBytes, (640 + 41000) * 1024);
    assert.equal(d.swapBytes, 12 * 1024);
    assert.equal(d.pssFileBytes, 6280 * 1024);
  });
  it('gives null, not zero, for fields an old kernel lacks', () => {
    const d = deriveAmounts(parseRollup('Rss: 4 kB\nPss: 2 kB\nPrivate_Dirty: 1 kB\n'));
    assert.equal(d.pssAnonBytes, null);
    assert.equal(d.swapPssBytes, null);
    assert.equal(d.ussBytes, 1024);
  });
  it('ignores text that is not a field', () => {
    assert.deepEqual(parseRollup('garbage\nVmFlags: rd wr\nRss: 12 MB\n\0\0'), {});
  });
});

describe('sumSmaps', () => {
  it('sums each field over mappings, as smem does', () => {
    const s = sumSmaps(smaps);
    assert.equal(s.mappings, 3);
    assert.equal(s.fields.Pss, (1 + 1100 + 2) * 1024);
    assert.equal(s.fields.Rss, (4 + 1100 + 8) * 1024);
    assert.equal(s.fields.Size, (4 + 1220 + 8) * 1024);
    assert.equal(s.fields.Swap, 20 * 1024);
  });
});

describe('parseStatus and cmdline', () => {
  it('takes name, state, ppid, effective uid and VmSize', () => {
    const s = parseStatus(readFileSync(join(FIXTURES, 'proc', '200', 'status'), 'utf8'));
    assert.deepEqual(s, { name: 'python3', state: 'S', ppid: 100, uid: 1000, vssBytes: 1232 * 1024 });
  });
  it('prints the command line as smem does', () => {
    assert.equal(formatCmdline('a\0b c\0d\0'), 'a b c d');
  });
});
