import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WarmupSettings } from '../../../src/results/types.js';
import type { LoadGenerator } from '../../../src/run/seams.js';
import { warmUp } from '../../../src/run/warm.js';
import { scriptedProc } from './scripted.js';

const SETTINGS: WarmupSettings = { requests: 30, connections: 30, path: '/', workerPidHeader: 'X-Worker-Pid' };

/** A load generator whose responses come from the given workers in turn (one worker often takes most). */
function scriptedLoad(rounds: number[][]): LoadGenerator & { batches: number; reaches: number } {
  const load = {
    batches: 0,
    reaches: 0,
    async batch(_url: string, _s: WarmupSettings, amount: number, onResponse: (status: number, pid: string | undefined) => void) {
      const serving = rounds[Math.min(load.batches, rounds.length - 1)] as number[];
      load.batches++;
      for (let k = 0; k < amount; k++) onResponse(200, serving.length ? String(serving[k % serving.length]) : undefined);
      return { requests: amount, sent: amount, errors: 0, timeouts: 0, latenciesMs: Array(amount).fill(1) };
    },
    flow(url: string, s: WarmupSettings, amount: number, onResponse: (status: number, pid: string | undefined) => void) {
      return load.batch(url, s, amount, onResponse);
    },
    async reach(_p: number, _path: string, pids: number[]) {
      load.reaches++;
      return { conclusive: true, served: pids, statusCodes: { 200: pids.length }, errors: 0 };
    },
  };
  return load;
}

const proc = scriptedProc([{ listening: 'ours', processes: {} }]);

describe('warm-up evidence on a scripted load', () => {
  it('tops up until every worker has served, counted apart', async () => {
    // The main warm-up reaches 3 of 5 workers; the first top-up round one more; the second the last.
    const load = scriptedLoad([[101, 102, 103], [104], [105]]);
    const w = await warmUp(8000, SETTINGS, [101, 102, 103, 104, 105], undefined, { load, proc });
    assert.deepEqual(w.idleWorkers, []);
    assert.equal(w.trafficEvidence, 'pid-header');
    assert.equal(w.requests, 30);
    assert.equal(w.topUp?.rounds, 2);
    assert.deepEqual(Object.keys(w.requestsPerWorker ?? {}).sort(), ['101', '102', '103', '104', '105']);
  });

  it('reports a worker that never served after the bounded top-up', async () => {
    const load = scriptedLoad([[101]]);
    const w = await warmUp(8000, SETTINGS, [101, 102], undefined, { load, proc });
    assert.deepEqual(w.idleWorkers, [102]);
    assert.equal(w.topUp?.rounds, 20, 'the bound on top-up rounds');
  });

  it("a pid header naming no worker (read at import, preloaded: the master's pid) is no evidence: held connections prove the workers", async () => {
    const load = scriptedLoad([[999]]);
    const w = await warmUp(8000, SETTINGS, [101, 102], undefined, { load, proc });
    assert.equal(load.reaches, 1, 'proved by held connections');
    assert.equal(load.batches, 1, 'no top-up rounds chasing pids that never come');
    assert.equal(w.trafficEvidence, 'connection');
    assert.deepEqual(w.idleWorkers, []);
    assert.deepEqual(w.pidHeaderNotWorkers, ['999']);
    assert.equal(w.requestsPerWorker, undefined);
  });

  it('without a pid header, holds one request per worker open to prove each served', async () => {
    const load = scriptedLoad([[]]);
    const w = await warmUp(8000, { ...SETTINGS, workerPidHeader: undefined }, [101, 102], undefined, { load, proc });
    assert.equal(load.reaches, 1);
    assert.equal(w.trafficEvidence, 'connection');
    assert.deepEqual(w.idleWorkers, []);
  });
});
