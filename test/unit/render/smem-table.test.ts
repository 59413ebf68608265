import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseColumns, renderSmemTable, type TableProcess } from '../../../src/render/smem-table.js';

function proc(
  pid: number,
  kb: { uss: number; pss: number; rss: number; swap?: number },
  command = '/usr/bin/python3 /usr/bin/gunicorn wsgi:application',
): TableProcess {
  return {
    pid,
    ppid: 1,
    user: 'root',
    name: 'gunicorn',
    command,
    ussBytes: kb.uss * 1024,
    pssBytes: kb.pss * 1024,
    rssBytes: kb.rss * 1024,
    swapBytes: (kb.swap ?? 0) * 1024,
    swapPssBytes: 0,
    pssAnonBytes: 0,
    pssFileBytes: 0,
    vssBytes: 0,
  };
}

const rows = [
  proc(14415, { uss: 9932, pss: 11161, rss: 23142 }),
  proc(14431, { uss: 35123, pss: 37785, rss: 56115 }),
  proc(14418, { uss: 35123, pss: 37785, rss: 56115 }),
];

describe('renderSmemTable', () => {
  it('prints smem -t -k byte for byte: widths, trailing spaces, 79 dashes, totals', () => {
    const expected = [
      '  PID User     Command                         Swap      USS      PSS      RSS ',
      '14415 root     /usr/bin/python3 /usr/bin/g        0     9.7M    10.9M    22.6M ',
      '14418 root     /usr/bin/python3 /usr/bin/g        0    34.3M    36.9M    54.8M ',
      '14431 root     /usr/bin/python3 /usr/bin/g        0    34.3M    36.9M    54.8M ',
      '-'.repeat(79),
      '    3 1                                           0    78.3M    84.7M   132.2M ',
      '',
    ].join('\n');
    assert.equal(renderSmemTable(rows, { totals: true, abbreviate: true }), expected);
  });
  it('prints kB without -k, sorted by PSS ascending, ties by the row (pid)', () => {
    const out = renderSmemTable(rows).split('\n');
    assert.equal(out[1], '14415 root     /usr/bin/python3 /usr/bin/g        0     9932    11161    23142 ');
    assert.match(out[2] as string, /^14418 /);
    assert.match(out[3] as string, /^14431 /);
  });
  it('reverses, sorts by another column, chooses columns, drops the header', () => {
    const out = renderSmemTable(rows, { sort: 'pid', reverse: true, columns: ['pid', 'vss', 'pss_anon'], noHeader: true });
    assert.equal(out, '14431        0        0 \n14418        0        0 \n14415        0        0 \n');
  });
  it('rejects an unknown column with the list of known ones', () => {
    assert.throws(() => parseColumns('pid bogus'), /--columns "bogus": unknown column; use any of: pid ppid user/);
  });
});
