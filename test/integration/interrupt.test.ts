import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cliAsync, isAlive, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-int-');

/** Every process whose command line holds the port: the server memcompare started, master and workers. */
function serverPids(port: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(`127.0.0.1:${port}`) && isAlive(Number(name))) out.push(Number(name));
    } catch {}
  }
  return out;
}

interface Outcome {
  code: number | null;
  stderr: string;
  ports: number[];
  pids: number[];
  /** Milliseconds from the signal to memcompare's exit. */
  afterSignalMs: number;
}

/** Runs the seed scenario and sends `signal` as soon as stderr shows `when` (the nth time). */
function interruptAt(
  when: RegExp,
  signal: NodeJS.Signals,
  file: string,
  nth = 1,
  abort?: AbortSignal,
  runs = 2,
  extra: string[] = [],
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = cliAsync(['run', 'preload-vs-nopreload', '--runs', String(runs), '--progress', '--json', file, ...extra], abort);
    let sentAt = 0;
    let stderr = '';
    let seen = 0;
    let sent = false;
    const ports = new Set<number>();
    const pids = new Set<number>();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const m of stderr.matchAll(/booting pid (\d+) on port (\d+)/g)) {
        pids.add(Number(m[1]));
        ports.add(Number(m[2]));
      }
      seen = stderr.split('\n').filter((l) => when.test(l)).length;
      if (!sent && seen >= nth) {
        sent = true;
        // Record the server's workers too, by the port in their command lines, before the signal.
        for (const port of ports) for (const pid of serverPids(port)) pids.add(pid);
        sentAt = performance.now();
        child.kill(signal);
      }
    });
    child.stdout.resume();
    child.on('exit', (code) => resolve({ code, stderr, ports: [...ports], pids: [...pids], afterSignalMs: performance.now() - sentAt }));
  });
}

const moments: Array<[string, RegExp, number]> = [
  ['during boot', /booting pid/, 1],
  ['during warm-up', /warming up/, 1],
  ['during settling', /settling/, 1],
  ['between runs', /measured total PSS/, 1],
  ['during the throughput phase', /throughput: \d+ s over \d+ connections/, 1],
  ['during the second variant', /\[preload 1\/2\] booting pid/, 1],
];

describe('Ctrl-C (SIGINT) at any moment: nothing left running, finished runs kept', { timeout: 300_000 }, () => {
  for (const [name, when, nth] of moments) {
    it(name, async (t) => {
      const file = join(tmp, `${name.replaceAll(' ', '-')}.json`);
      // The phase lasts long enough that the signal lands in it (the tests' runs shorten it to 0.5 s).
      const extra = name === 'during the throughput phase' ? ['--throughput-duration', '5'] : [];
      const o = await interruptAt(when, 'SIGINT', file, nth, t.signal, 2, extra);
      assert.equal(o.code, 130, o.stderr);
      assert.ok(o.pids.length > 0, 'saw the server start');
      assert.deepEqual(o.pids.filter(isAlive), [], 'every pid it started is gone');
      for (const port of o.ports) assert.deepEqual(serverPids(port), [], `nothing on port ${port}`);
      assert.match(o.stderr, /memcompare: run interrupted by SIGINT; the runs finished so far are saved, marked incomplete/);
      assert.doesNotMatch(o.stderr, /\n\s+at /, 'no stack trace');
      if (existsSync(file)) {
        const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
        assert.equal(doc.complete, false);
        assert.match(doc.incompleteReason ?? '', /SIGINT/);
        for (const v of doc.variants) for (const r of v.runs) assert.equal(r.processes.length, 6, 'only finished runs are saved');
        if (name === 'during the throughput phase') {
          assert.equal(doc.variants[0]?.runs[0]?.throughput?.cut, true, 'the phase is said to be cut');
          assert.ok(o.afterSignalMs < 2000, `exited ${Math.round(o.afterSignalMs)} ms after SIGINT`);
        }
      } else {
        assert.ok(!/measured total PSS/.test(o.stderr), 'a finished run must have been saved');
      }
    });
  }
  it('SIGTERM exits 143 with the same guarantees', async (t) => {
    const file = join(tmp, 'term.json');
    const o = await interruptAt(/settling/, 'SIGTERM', file, 1, t.signal);
    assert.equal(o.code, 143, o.stderr);
    assert.deepEqual(o.pids.filter(isAlive), []);
    for (const port of o.ports) assert.deepEqual(serverPids(port), []);
  });
});

describe('memcompare itself killed with SIGKILL (no handler runs)', { timeout: 300_000 }, () => {
  for (const when of [/warming up/, /settling/]) {
    it(`at ${when.source}: its guard kills the whole server within 2 s`, async (t0) => {
      const child = cliAsync(['run', 'preload-vs-nopreload', '--runs', '1', '--progress'], t0.signal);
      let stderr = '';
      const port = await new Promise<number>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /on port (\d+)/.exec(stderr);
          if (m && when.test(stderr)) resolve(Number(m[1]));
        });
      });
      const pids = serverPids(port);
      assert.ok(pids.length >= 2, 'the server was running');
      child.kill('SIGKILL');
      const t = performance.now();
      // A SIGKILLed process is "alive" (state R, empty cmdline) while the kernel tears down its memory.
      const left = () => [...new Set([...serverPids(port), ...pids.filter(isAlive)])];
      while (left().length > 0 && performance.now() - t < 5000) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(left(), [], `left after ${Math.round(performance.now() - t)} ms`);
      assert.ok(performance.now() - t < 2000, `took ${Math.round(performance.now() - t)} ms`);
    });
  }
});

describe('--json to a FIFO: one document, the last; a signal always ends memcompare', { timeout: 300_000 }, () => {
  const mkfifo = (path: string) => new Promise((r) => spawn('mkfifo', [path]).on('exit', r));

  it('a reader that reads once gets one complete document, and the run ends', async (t) => {
    const fifo = join(tmp, 'once.fifo');
    await mkfifo(fifo);
    const reader = spawn('sh', ['-c', `cat ${fifo} > ${fifo}.out`], { signal: t.signal, killSignal: 'SIGKILL' });
    reader.on('error', () => {});
    const child = cliAsync(['run', 'preload-vs-nopreload', '--runs', '1', '-q', '--json', fifo], t.signal);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const code = await new Promise((r) => child.on('exit', r));
    await new Promise((r) => (reader.exitCode === null ? reader.on('exit', r) : r(undefined)));
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(readFileSync(`${fifo}.out`, 'utf8')) as ResultsDocument;
    assert.equal(doc.complete, true);
    assert.deepEqual(
      doc.variants.map((v) => v.runs.length),
      [1, 1],
    );
    assert.ok(lstatSync(fifo).isFIFO());
  });

  for (const [name, when] of [
    ['during the warm-up, no reader', /warming up/],
    ['between runs, no reader', /measured total PSS/],
    ['at the end, waiting for a reader', /\[preload 1\/1\] stopped/],
  ] as const) {
    it(`SIGTERM ${name}: exit 143 within 2 s, nothing left running`, async (t) => {
      const fifo = join(tmp, `${name.replaceAll(' ', '-').replaceAll(',', '')}.fifo`);
      await mkfifo(fifo);
      const o = await interruptAt(when, 'SIGTERM', fifo, 1, t.signal, 1);
      assert.equal(o.code, 143, o.stderr);
      assert.ok(o.afterSignalMs < 2000, `exited ${Math.round(o.afterSignalMs)} ms after SIGTERM`);
      assert.deepEqual(o.pids.filter(isAlive), []);
      for (const port of o.ports) assert.deepEqual(serverPids(port), []);
      assert.ok(lstatSync(fifo).isFIFO());
    });
  }
});
