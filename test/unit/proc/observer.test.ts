import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateFromSmaps, fileRanges } from '../../../src/proc/observer.js';

const MAPS = `55d0a0000000-55d0a0001000 r--p 00000000 fd:01 1311 /usr/sbin/php-fpm8.2
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000097000 r--p 00000000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f1000097000-7f10001ad000 r-xp 00097000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
`;

describe('the observer share: recorded text', () => {
  it('file mappings only, keyed by device and inode, with their addresses', () => {
    const r = fileRanges(MAPS);
    assert.deepEqual(
      r.map((x) => [x.key, x.end - x.start]),
      [
        ['fd:01 1311', 0x1000],
        ['fd:01 2222', 0x97000],
        ['fd:01 2222', 0x116000],
      ],
    );
  });

  const smaps = (
    pss: number,
    rss: number,
    priv: number,
  ) => `7f1000097000-7f10001ad000 r-xp 00097000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
Size:               1112 kB
Rss:                 ${rss} kB
Pss:                 ${pss} kB
Shared_Clean:        ${rss - priv} kB
Shared_Dirty:           0 kB
Private_Clean:       ${priv} kB
Private_Dirty:          0 kB
7f1100000000-7f1100010000 r-xp 00000000 fd:01 9999 /usr/lib/x86_64-linux-gnu/libother.so
Rss:                   64 kB
Pss:                   32 kB
Shared_Clean:          64 kB
Private_Clean:          0 kB
`;

  it('estimates: a library mapped by this process and the observer alone would be private and whole', () => {
    // Rss 1,216 kB at Pss 608: two mappings of every page, one of them the observer's.
    const s = estimateFromSmaps(smaps(608, 1216, 0), new Set(['fd:01 2222']), 1);
    assert.equal(s.pssBytes, 608 * 1024);
    assert.equal(s.ussBytes, 1216 * 1024);
    // Mapped four times (with three server processes): 1/3 instead of 1/4, and still shared.
    const four = estimateFromSmaps(smaps(304, 1216, 0), new Set(['fd:01 2222']), 1);
    assert.equal(four.pssBytes, Math.round((1216 / 3 - 304) * 1024));
    assert.equal(four.ussBytes, 0);
    // A file the observer does not map, or a private mapping, takes nothing.
    assert.deepEqual(estimateFromSmaps(smaps(1216, 1216, 1216), new Set(['fd:01 2222']), 1), { pssBytes: 0, ussBytes: 0 });
    assert.deepEqual(estimateFromSmaps(smaps(608, 1216, 0), new Set(['fd:01 7']), 1), { pssBytes: 0, ussBytes: 0 });
  });
});
