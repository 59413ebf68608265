import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunRecord, SteadyRecord, VariantResult } from '../../../src/results/types.js';
import { diagnose } from '../../../src/run/diagnose.js';
import { commonDepth, replaceShallowRun, shallowVariants } from '../../../src/run/stages/steady.js';
import { growthPerRequest, STEADY, type SteadyRound, steadyThreshold, type WorkersLook, warmUntilSteady } from '../../../src/run/steady.js';

const KiB = 1024;
const MiB = 1048576;
const look = (uss: Record<number, number>, total = 100 * MiB): WorkersLook => ({
  ussByPid: new Map(Object.entries(uss).map(([p, u]) => [Number(p), u])),
  totalPssBytes: total,
});

/** What diagnose reads of a run: a 30-request warm-up with these status codes (and steady record). */
const facts = (statusCodes: Record<string, number>, steady?: SteadyRecord): Parameters<typeof diagnose>[0] => ({
  variant: 'v',
  run: 1,
  warmup: {
    url: '',
    requests: 30,
    sent: 30,
    connections: 30,
    durationMs: 1,
    requestsPerSecond: 1,
    statusCodes,
    errors: 0,
    timeouts: 0,
    latencyMs: { min: 0, mean: 0, p10: 0, p25: 0, p50: 0, p75: 0, p90: 0, p97_5: 0, p99: 0, max: 0 },
    trafficEvidence: 'pid-header',
    idleWorkers: [],
    ...(steady ? { steady } : {}),
  },
  warmedWorkers: 2,
  settle: { settled: true, samples: 3, durationMs: 1, totalPssHistoryBytes: [], lastChangePercent: 0 },
  processes: [],
  skipped: [],
  expectedWorkers: 0,
  replacedWorkers: [],
});

/** A scripted app: each round's growth per request comes from `rate(round)`; the clock moves `msPerRound`. */
function scripted(rate: (round: number, requests: number) => number, msPerRound = 100) {
  let now = 0;
  let round = 0;
  let uss = 20 * MiB;
  const sizes: number[] = [];
  return {
    sizes,
    deps: {
      clock: {
        now: () => now,
        date: () => new Date(now),
        sleep: async (ms: number) => {
          now += ms;
        },
      },
      look: () => look({ 1: uss, 2: uss }, 80 * MiB),
      round: async (amount: number): Promise<SteadyRound> => {
        sizes.push(amount);
        round++;
        now += msPerRound;
        uss += (rate(round, amount) * amount) / 2;
        return { requests: amount };
      },
    },
  };
}

describe('the steady criterion, per request', () => {
  it('is 1 KiB per request, or 0.5% of the total PSS per 400 requests when that is larger', () => {
    assert.equal(steadyThreshold(10 * MiB), 1024);
    assert.equal(steadyThreshold(680 * MiB), (0.005 * 680 * MiB) / 400);
  });

  it('divides the tree’s growth by the round’s requests, and each counted worker’s by its own', () => {
    const before = look({ 1: 10 * MiB, 2: 10 * MiB });
    const after = look({ 1: 10 * MiB + 100 * KiB, 2: 10 * MiB });
    assert.equal(growthPerRequest(before, after, { requests: 100 }), 1024, 'no header: 100 KiB over 100 requests');
    // With the pid header, worker 1 served 10 of the 100: it grows 10 KiB a request, and that decides.
    assert.equal(growthPerRequest(before, after, { requests: 100, perWorker: { 1: 10, 2: 90 } }), 10 * KiB);
    // A new worker (not in the first look) is not judged; memory given back is steady.
    assert.equal(growthPerRequest(before, look({ 1: 9 * MiB, 3: 50 * MiB }), { requests: 10 }), -MiB / 10);
  });
});

describe('warmUntilSteady on a scripted app', () => {
  it('a steady app costs one round of the first size', async () => {
    const app = scripted(() => 0);
    const s = await warmUntilSteady({ requests: 30, connections: 30, workers: 2, servedSoFar: 30 }, app.deps);
    assert.deepEqual(app.sizes, [30]);
    assert.equal(s.reached, true);
    assert.equal(s.requestsPerWorker, 30);
  });

  it('rounds double while the app grows, up to 32 times the first', async () => {
    // 2 or 6 KiB a request (a line it is not) for the first 2,000 requests, then nothing.
    let sent = 0;
    const app = scripted((r, n) => {
      sent += n;
      return sent <= 2000 ? (r % 2 ? 2 : 6) * KiB : 0;
    });
    const s = await warmUntilSteady({ requests: 10, connections: 10, workers: 2, servedSoFar: 10 }, app.deps);
    assert.deepEqual(app.sizes.slice(0, 7), [10, 20, 40, 80, 160, 320, 320]);
    assert.equal(s.reached, true);
    assert.ok(s.requests > 2000);
  });

  it('growth the same per request, round after round, past 300 requests a worker, is a line: not waited for', async () => {
    const app = scripted(() => 10 * KiB);
    const s = await warmUntilSteady({ requests: 30, connections: 30, workers: 2, servedSoFar: 30 }, app.deps);
    assert.equal(s.linear, true);
    assert.equal(s.reached, false);
    assert.ok(s.requestsPerWorker >= STEADY.linearDepth);
    assert.ok(Math.abs(s.lastBytesPerRequest - 10 * KiB) < 1);
  });

  it('ends on the time bound when the growth neither stops nor settles into a line, and says so', async () => {
    const app = scripted((r) => (r % 2 ? 2 : 6) * KiB, 10_000);
    const s = await warmUntilSteady({ requests: 30, connections: 30, workers: 2, servedSoFar: 30 }, app.deps);
    assert.equal(s.reached, false);
    assert.equal(s.linear, false);
    assert.equal(s.bound, 'time');
    assert.equal(s.rounds, STEADY.maxMs / 10_000);
    const warnings = diagnose(facts({ 200: 30 }, s));
    const w = warnings.find((x) => x.kind === 'warmup-not-steady');
    assert.match(
      w?.message ?? '',
      /ended at its bound \(time: 12 rounds, \d+ requests per worker, 120 s\) with the workers still growing \d\.\d KiB per request \(steady: 1\.0 KiB\)/,
    );
  });

  it('warm-up requests that got no complete response are said (a body ended only by the server closing)', () => {
    const unanswered = diagnose(facts({})).find((x) => x.kind === 'warmup-errors');
    assert.match(unanswered?.message ?? '', /^30 of 30 warm-up requests got no complete response/);
    assert.equal(
      diagnose(facts({ 200: 30 })).find((x) => x.kind === 'warmup-errors'),
      undefined,
    );
  });
});

describe('every variant at the same depth', () => {
  it('with a target depth the rounds go on to exactly it on the same ladder, steady or not, and say which', async () => {
    const flat = scripted(() => 0);
    const s = await warmUntilSteady(
      { requests: 30, connections: 30, workers: 2, servedSoFar: 30, targetRequestsPerWorker: 240 },
      flat.deps,
    );
    // 30 sent, then 30, 60, 120, 240 would pass 480 in all: the last round is cut to reach it.
    assert.deepEqual(flat.sizes, [30, 60, 120, 240]);
    assert.equal(s.requestsPerWorker, 240);
    assert.equal(s.targetRequestsPerWorker, 240);
    assert.equal(s.reached, true);

    const growing = scripted(() => 4 * KiB);
    const g = await warmUntilSteady(
      { requests: 30, connections: 30, workers: 2, servedSoFar: 30, targetRequestsPerWorker: 240 },
      growing.deps,
    );
    assert.equal(g.requestsPerWorker, 240);
    assert.equal(g.reached, false);
    assert.equal(g.linear, false, 'a set depth is not cut short by a line');
    const w = diagnose(facts({ 200: 30 }, g)).find((x) => x.kind === 'warmup-not-steady');
    assert.match(w?.message ?? '', /^still growing 4\.0 KiB a request at 240 requests per worker, the depth every variant/);
  });

  it("a later variant topped up at its first round still lands on an earlier variant's depth (it is not booted again)", async () => {
    // The first variant warmed to 96 a worker on 5 workers (480 requests); this one had 60 after a top-up and grew
    // until its third round: 30, 60, 120 would leave 270, and a round of 240 would pass 480 by 30.
    const late = scripted((round) => (round <= 3 ? 4 * KiB : 0));
    const s = await warmUntilSteady({ requests: 30, connections: 30, workers: 5, servedSoFar: 60, minRequestsPerWorker: 96 }, late.deps);
    assert.deepEqual(late.sizes, [30, 60, 120, 210]);
    assert.equal(s.requestsPerWorker, 96);
    assert.equal(s.reached, true);
  });

  const variant = (name: string, depth: number | undefined) =>
    ({
      name,
      runs: [{ warmup: depth === undefined ? {} : { steady: { requestsPerWorker: depth } } }],
    }) as unknown as VariantResult;

  it('the common depth is the deepest first run; shallower variants are run again and the shallow run is replaced', () => {
    const vs = [variant('lazy', 12), variant('preload', 1_914), variant('same', 1_900)];
    assert.equal(commonDepth(vs), 1_914);
    assert.deepEqual(shallowVariants(vs, 1_914), [0], 'within 5% counts as the same depth');
    const again = { warmup: { steady: { requestsPerWorker: 1_914 } } } as unknown as RunRecord;
    replaceShallowRun(vs[0] as VariantResult, again);
    assert.equal(vs[0]?.runs.length, 1);
    assert.equal(vs[0]?.runs[0]?.warmup.steady?.replacedDepth, 12);
    assert.equal(commonDepth([variant('count', undefined)]), undefined);
  });
});
