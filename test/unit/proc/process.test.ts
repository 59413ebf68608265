import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readProcess } from '../../../src/proc/process.js';
import { takeSnapshot } from '../../../src/proc/snapshot.js';
import { FIXTURES } from '../../helpers.js';

const PROC = join(FIXTURES, 'proc');

describe('readProcess on recorded /proc text', () => {
  it('reads a modern process from smaps_rollup', () => {
    const r = readProcess(100, PROC);
    assert.ok(r?.ok);
    assert.equal(r.process.source, 'smaps_rollup');
    assert.equal(r.process.command, '/usr/bin/python3 /usr/bin/gunicorn wsgi:application');
    assert.equal(r.process.vssBytes, 291234 * 1024);
    assert.equal(r.process.user, 'root');
  });
  it('sums smaps on a kernel without smaps_rollup (before 4.14)', () => {
    const r = readProcess(200, PROC);
    assert.ok(r?.ok);
    assert.equal(r.process.source, 'smaps');
    assert.equal(r.process.pssBytes, 1103 * 1024);
    assert.equal(r.process.ussBytes, 1100 * 1024);
    assert.equal(r.process.pssAnonBytes, null);
  });
  it('skips a kernel thread and a vanished pid with their reasons', () => {
    assert.deepEqual(readProcess(300, PROC), { ok: false, skipped: { pid: 300, reason: 'kernel-thread', detail: 'empty cmdline' } });
    assert.deepEqual(readProcess(999, PROC), { ok: false, skipped: { pid: 999, reason: 'exited', detail: 'ENOENT at cmdline' } });
  });
  it('snapshot of the recorded tree: totals, filters, no kernel threads', () => {
    const all = takeSnapshot({}, { procRoot: PROC });
    assert.deepEqual(
      all.processes.map((p) => p.pid),
      [100, 200],
    );
    assert.equal(all.totals.pssBytes, (46380 + 1103) * 1024);
    assert.equal(all.skipped.length, 0);
    const matched = takeSnapshot({ match: /app\.py/ }, { procRoot: PROC });
    assert.deepEqual(
      matched.processes.map((p) => p.pid),
      [200],
    );
    const byUser = takeSnapshot({ user: '1000' }, { procRoot: PROC });
    assert.deepEqual(
      byUser.processes.map((p) => p.pid),
      [200],
    );
  });
});
