import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../src/errors.js';
import { waitReady } from '../../../src/run/ready.js';
import { gunicorn } from '../../../src/servers/gunicorn.js';
import { fakeClock, fakeServer, type PollState, scriptedProc } from './scripted.js';

/** The scripted /proc and its probe, as readiness takes them. */
const withProbe = (proc: ReturnType<typeof scriptedProc>) => ({ proc, probe: proc.probe });

const master: [number, string] = [5_000_000, 'S'];
const opts = { port: 8000, path: '/', timeoutMs: 60_000, pollMs: 50 };

/** Workers 101..100+n, each with the given CPU time (ns) and state. */
function state(n: number, cpuNs: (w: number) => number, st = 'S', listening: PollState['listening'] = 'ours'): PollState {
  const processes: PollState['processes'] = { 100: master };
  for (let w = 1; w <= n; w++) processes[100 + w] = [cpuNs(w), st];
  return { listening, processes };
}

describe('readiness on scripted process states', () => {
  it('waits while any worker still burns CPU (importing the app), and is ready once all are idle', async () => {
    // 5 workers; worker 3 keeps importing for 10 polls (CPU time grows 50 ms a poll).
    const states = Array.from({ length: 10 }, (_, k) => state(5, (w) => (w === 3 ? k * 50_000_000 : 1_000_000)));
    const proc = scriptedProc(states);
    const ready = await waitReady(fakeServer(), gunicorn, { ...opts, workers: 5 }, undefined, {
      proc,
      clock: fakeClock(),
      probe: proc.probe,
    });
    assert.equal(ready.workerPids.length, 5);
    assert.equal(proc.polls, 12, `ready after ${proc.polls} polls, while a worker was still busy until poll 10`);
  });

  it('a running (R) or disk-waiting (D) worker is not idle', async () => {
    const states = [...Array.from({ length: 6 }, () => state(2, () => 1, 'R')), state(2, () => 1, 'S')];
    const proc = scriptedProc(states);
    await waitReady(fakeServer(), gunicorn, { ...opts, workers: 2 }, undefined, { proc, clock: fakeClock(), probe: proc.probe });
    assert.equal(proc.polls, 8, `ready after ${proc.polls} polls; workers ran through poll 6`);
  });

  it('waits for the declared number of workers (preloaded gunicorn forks them one after another)', async () => {
    const states = [1, 2, 3, 4, 5].map((n) => state(n, () => 1));
    const proc = scriptedProc(states);
    const ready = await waitReady(fakeServer(), gunicorn, { ...opts, workers: 5 }, undefined, {
      proc,
      clock: fakeClock(),
      probe: proc.probe,
    });
    assert.equal(ready.workerPids.length, 5);
  });

  it('does not probe or count workers before its own tree listens; refuses a foreign listener', async () => {
    const proc = scriptedProc([state(2, () => 1, 'S', 'none'), state(2, () => 1, 'S', 'foreign')]);
    await assert.rejects(
      waitReady(fakeServer(), gunicorn, { ...opts, workers: 2 }, undefined, { proc, clock: fakeClock(), probe: proc.probe }),
      (e: unknown) => e instanceof MemcompareError && e.code === 'PORT_TAKEN' && /pid 999/.test(e.message),
    );
  });

  it('detects the count when none is declared: the set unchanged and idle for about a second', async () => {
    const states = [state(1, () => 1), state(2, () => 1), state(3, () => 1)];
    const proc = scriptedProc(states);
    const clock = fakeClock();
    const ready = await waitReady(fakeServer(), gunicorn, { ...opts, workers: undefined }, undefined, { proc, clock, probe: proc.probe });
    assert.equal(ready.workerPids.length, 3);
    assert.equal(ready.detected, true);
    assert.ok(clock.now() >= 1000, `detected after ${clock.now()} ms`);
  });

  it('a declared count never reached fails within seconds, naming both counts', async () => {
    const clock = fakeClock();
    await assert.rejects(
      waitReady(fakeServer(), gunicorn, { ...opts, workers: 5 }, undefined, { ...withProbe(scriptedProc([state(3, () => 1)])), clock }),
      (e: unknown) =>
        e instanceof MemcompareError && e.code === 'SERVER_NOT_READY' && /3 workers/.test(e.message) && /--workers 3/.test(e.message),
    );
    assert.ok(clock.now() < 10_000, `failed after ${clock.now()} ms, not at the boot timeout`);
  });

  it('no worker at all (an app that fails to load): says so, and does not advise --workers 0', async () => {
    await assert.rejects(
      waitReady(fakeServer(), gunicorn, { ...opts, workers: 3 }, undefined, {
        ...withProbe(scriptedProc([state(0, () => 1)])),
        clock: fakeClock(),
      }),
      (e: unknown) =>
        e instanceof MemcompareError &&
        e.code === 'SERVER_NOT_READY' &&
        /no worker of the server started/.test(e.message) &&
        !/--workers 0/.test(e.message),
    );
  });

  it('more workers than declared is a usage error', async () => {
    await assert.rejects(
      waitReady(fakeServer(), gunicorn, { ...opts, workers: 2 }, undefined, {
        ...withProbe(scriptedProc([state(4, () => 1)])),
        clock: fakeClock(),
      }),
      (e: unknown) => e instanceof MemcompareError && e.code === 'BAD_ARGUMENT' && /--workers 4/.test(e.message),
    );
  });

  it('a port that accepts connections but never answers is named as such', async () => {
    const hung: PollState = { ...state(2, () => 1), probe: 'no-answer' };
    await assert.rejects(
      waitReady(fakeServer(), gunicorn, { ...opts, workers: 2, timeoutMs: 2000 }, undefined, {
        ...withProbe(scriptedProc([hung])),
        clock: fakeClock(),
      }),
      (e: unknown) => e instanceof MemcompareError && /accepts connections but GET \/ has not answered/.test(e.message),
    );
  });
});
