import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupOf, groupRows, parseMappings, sumMappings } from '../../../src/proc/mappings.js';

const SMAPS = `55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 131 /usr/bin/python3.11
Size:                132 kB
Rss:                 128 kB
Pss:                  25 kB
Shared_Clean:        120 kB
Shared_Dirty:          0 kB
Private_Clean:         8 kB
Private_Dirty:         0 kB
Swap:                  0 kB
VmFlags: rd mr mw me sd
55d0c2000000-55d0c3000000 rw-p 00000000 00:00 0                          [heap]
Rss:                4096 kB
Pss:                4000 kB
Shared_Clean:          0 kB
Shared_Dirty:        200 kB
Private_Clean:         0 kB
Private_Dirty:      3896 kB
Swap:                 12 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Rss:                 100 kB
Pss:                 100 kB
Private_Dirty:       100 kB
7f0000200000-7f0000300000 r-xp 00000000 08:01 77 /usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so
Rss:                 300 kB
Pss:                  60 kB
Shared_Clean:        300 kB
7f0000400000-7f0000500000 r--p 00000000 08:01 78 /tmp/gone.so (deleted)
Rss:                   4 kB
Pss:                   4 kB
Private_Clean:         4 kB
7f0000600000-7f0000700000 rw-p 00000000 00:00 0                          <anonymous>
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  20 kB
Pss:                  20 kB
Private_Dirty:        20 kB
`;

describe('per-mapping smaps', () => {
  const maps = parseMappings(SMAPS);
  it("names mappings as smem does: a path, [heap], <anonymous> for none; smem's formulas per name", () => {
    assert.deepEqual([...maps.keys()].sort(), [
      '/tmp/gone.so',
      '/usr/bin/python3.11',
      '/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so',
      '<anonymous>',
      '[heap]',
      '[stack]',
    ]);
    assert.deepEqual(maps.get('[heap]'), {
      pssBytes: 4000 * 1024,
      ussBytes: 3896 * 1024,
      rssBytes: 4096 * 1024,
      swapBytes: 12 * 1024,
      sharedBytes: 200 * 1024,
      mappings: 1,
    });
    assert.equal(maps.get('<anonymous>')?.mappings, 2);
    assert.equal(maps.get('<anonymous>')?.ussBytes, 100 * 1024);
  });
  it('groups: heap and anonymous, the interpreter, packages by their folder, other files, stacks', () => {
    assert.equal(groupOf('[heap]').group, 'heap and anonymous');
    assert.equal(groupOf('<anonymous>').group, 'heap and anonymous');
    assert.equal(groupOf('/usr/bin/python3.11').group, 'interpreter');
    assert.equal(groupOf('/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0').group, 'interpreter');
    assert.equal(groupOf('/usr/lib/python3/dist-packages/numpy/core/x.so').group, 'package numpy');
    assert.equal(groupOf('/usr/lib/python3/dist-packages/numpy.libs/libgfortran.so').group, 'package numpy');
    assert.equal(groupOf('/var/lib/gems/3.1.0/gems/puma-5.6.5/lib/puma/puma_http11.so').group, 'package puma');
    // "python3" in a path is not the interpreter: dist-packages holds it too.
    assert.equal(groupOf('/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so').group, 'other files');
    assert.equal(groupOf('[stack]').group, 'stacks and special');
    assert.equal(groupOf('[vdso]').group, 'stacks and special');
  });
  it('sums over processes, counting the processes that map each name', () => {
    const rows = sumMappings([maps, maps]);
    assert.equal(rows.find((r) => r.name === '[heap]')?.processes, 2);
    assert.equal(rows.find((r) => r.name === '[heap]')?.pssBytes, 8000 * 1024);
    const groups = groupRows(rows);
    assert.equal(groups.find((g) => g.group === 'heap and anonymous')?.names, 2);
  });
});
