import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cpuState, groupTicks } from '../../../src/proc/stat.js';
import { usedCpu } from '../../../src/run/warm.js';
import { FIXTURES } from '../../helpers.js';

// A Puma worker (-t 4:4, 11 threads) recorded before and after serving 200 requests: its main thread's
// schedstat did not move (9435093 ns both times); its server threads did.
const THREADS = join(FIXTURES, 'proc-threads');
const PID = 13198;
const sumOfTasks = (root: string) =>
  readdirSync(join(root, String(PID), 'task')).reduce(
    (ns, tid) => ns + Number(readFileSync(join(root, String(PID), 'task', tid, 'schedstat'), 'utf8').split(' ')[0]),
    0,
  );

describe('CPU time of a threaded worker, on recorded /proc trees', () => {
  const before = cpuState(PID, join(THREADS, 'before'));
  const after = cpuState(PID, join(THREADS, 'after'));

  it('sums every thread, not the main thread alone', () => {
    assert.ok(before && after);
    assert.equal(before.cpuNs, sumOfTasks(join(THREADS, 'before')));
    assert.equal(after.cpuNs, sumOfTasks(join(THREADS, 'after')));
    assert.equal(after.cpuNs, 56_452_915);
    const mainOnly = (root: string) => Number(readFileSync(join(root, String(PID), 'schedstat'), 'utf8').split(' ')[0]);
    assert.equal(mainOnly(join(THREADS, 'before')), mainOnly(join(THREADS, 'after')), 'the recording: the main thread did not move');
    assert.ok(after.cpuNs > before.cpuNs);
  });

  it('calls the worker busy although its main thread never ran', () => {
    assert.equal(usedCpu(before, after), true);
    assert.equal(usedCpu(after, after), false, 'no change: idle');
  });

  it("reads the thread group's utime + stime from stat", () => {
    const text = readFileSync(join(THREADS, 'after', String(PID), 'stat'), 'utf8');
    assert.equal(groupTicks(text), 5, 'utime 4 + stime 1');
    assert.equal(groupTicks('1 (a b) c) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0'), 10, 'a command name with spaces and parentheses');
  });

  it('a thread group whose threads ran but whose sum fell (a thread exited) still counts by its ticks', () => {
    assert.equal(usedCpu({ cpuNs: 100, groupTicks: 4, state: 'S', ppid: 1 }, { cpuNs: 90, groupTicks: 5, state: 'S', ppid: 1 }), true);
    assert.equal(usedCpu({ cpuNs: 100, groupTicks: 4, state: 'S', ppid: 1 }, undefined), false, 'gone: no evidence');
  });
});
