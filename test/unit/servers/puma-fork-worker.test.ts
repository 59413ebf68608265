import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pumaRole } from '../../../src/servers/puma.js';

describe('Puma --fork-worker: workers 1..n are children of worker 0', () => {
  // Master 100; worker 0 is 101 (its child); 102 and 103 were forked by worker 0; 104 is a process the app started.
  const parents: Record<number, number> = { 100: 1, 101: 100, 102: 101, 103: 101, 104: 101, 105: 102 };
  const titles: Record<number, string[]> = {
    101: ['puma: cluster worker 0: 100 [app]'],
    102: ['puma: cluster worker 1: 100 [app]'],
    103: ['puma: cluster worker 2: 100 [app]'],
    104: ['sh', '-c', 'convert x.png'],
    105: ['puma: cluster worker 1: 100 [app]'],
  };
  const read = {
    stat: (pid: number) => (parents[pid] !== undefined ? { state: 'S', ppid: parents[pid] as number, session: 1 } : undefined),
    argv: (pid: number) => titles[pid],
  };
  const role = (pid: number) => pumaRole(pid, parents[pid] as number, 100, read);

  it('the master, worker 0, and the workers it forked; not what the app starts, nor deeper', () => {
    assert.deepEqual([100, 101, 102, 103, 104, 105].map(role), ['master', 'worker', 'worker', 'worker', 'other', 'other']);
  });
});
