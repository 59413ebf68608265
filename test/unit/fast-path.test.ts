import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { tryFastSnapshot } from '../../src/cli/fast.js';
import { main } from '../../src/cli/main.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk, _e, cb) {
        out[k] += String(chunk);
        cb();
      },
    });
  return { out, io: { stdout: sink('stdout'), stderr: sink('stderr') } };
}

describe('the snapshot fast path and the yargs CLI agree', () => {
  const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
  const pid = String(sleeper.pid);
  after(() => sleeper.kill());
  // PSS of a shared page moves whenever any process on the host maps or unmaps it: compared without it.
  const cases = [
    ['snapshot', '--pid', pid, '-c', 'pid user command swap uss rss'],
    ['snapshot', '-p', pid, '-tk', '--columns=pid,user,command,uss,rss'],
    ['snapshot', `--pid=${pid}`, '-c', 'pid ppid rss vss', '-H', '-r', '-s', 'rss'],
    ['snapshot', '--pid', '4194000'],
    ['snapshot', '--pid', pid, '--columns', 'nope'],
  ];
  for (const argv of cases) {
    it(argv.slice(1).join(' '), async () => {
      const fast = capture();
      const code = tryFastSnapshot(argv, fast.io);
      assert.notEqual(code, undefined, 'the fast path took it');
      const full = capture();
      const fullCode = await main(argv, full.io);
      assert.equal(code, fullCode);
      assert.equal(fast.out.stdout, full.out.stdout);
      assert.equal(fast.out.stderr, full.out.stderr);
    });
  }
  it('leaves anything unusual to yargs', () => {
    const { io } = capture();
    for (const argv of [
      ['snapshot', '--help'],
      ['snapshot', '--tree', 'false'],
      ['snapshot', '--bogus'],
      ['run', 'x'],
    ]) {
      assert.equal(tryFastSnapshot(argv, io), undefined, argv.join(' '));
    }
  });
});
