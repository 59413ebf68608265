import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEADROOM } from '../../../../src/results/lifetime.js';
import { runScenario } from '../../../../src/run/engine.js';
import { recycledAtBirth, verifyStage } from '../../../../src/run/stages/verify.js';
import { gunicorn } from '../../../../src/servers/gunicorn.js';
import { makeWorld, scenarioOf } from '../world.js';

const MiB = 1048576;

describe('stage: verify (run --verify)', () => {
  it('soaks again with the advised setting; a round over the limit lowers it by the requests its overshoot took', async () => {
    // Workers keep 64 KiB of PSS (32 KiB of USS) a request and this world never recycles them: every round is over.
    const world = makeWorld({ evenLoad: true, growth: (served) => served / 16 });
    const scenario = { ...scenarioOf(['a'], 1), server: 'gunicorn' };
    // Held at 20 requests/s: a verifying soak (120 s) takes each worker ~1,200 requests, past the setting but
    // by less than a third of it, so that three rounds each lower it.
    scenario.soak = { durationSeconds: 30, connections: 4, intervalMs: 100, maxCpuPercent: 50, rate: 20 };
    const limitBytes = 40 * MiB;
    const doc = await runScenario(scenario, { maxWorkerUssBytes: limitBytes, family: gunicorn }, world.deps);
    const advice = doc.variants[0]?.runs[0]?.soak?.advice;
    assert.ok(advice?.requests, JSON.stringify(advice));
    let saved = 0;
    // The verifying soaks run longer than the setting: each worker would serve past it, were it not recycled.
    scenario.soak = { ...scenario.soak, durationSeconds: 120 };
    await verifyStage(doc, scenario, limitBytes, { deps: world.deps, family: gunicorn }, () => saved++);
    const rounds = (doc.verification ?? []).filter((r) => !r.byRss && !r.remedy);
    assert.equal(rounds.length, 3, JSON.stringify(rounds.map((r) => r.setting)));
    assert.equal(rounds[0]?.setting, gunicorn.recycling?.text(advice.requests));
    assert.ok(saved >= 3);
    // Each lower round: the setting less ceil(overshoot / growth per request), the overshoot measured against the limit less the headroom.
    let requests = advice.requests;
    for (const [i, r] of rounds.entries()) {
      assert.equal(r.within, false);
      assert.deepEqual(r.args, gunicorn.recycling?.args?.(requests));
      const overshoot = Math.max(...r.workerPeakUssBytes) - limitBytes * (1 - HEADROOM);
      const next = requests - Math.ceil(overshoot / advice.bytesPerRequest);
      if (i < rounds.length - 1) assert.ok(next < requests, `round ${i + 2} is lower (${next} < ${requests})`);
      requests = next;
    }
    // Each verifying soak ran the server with the round's setting on its command line.
    const lines = world.servers.map((x) => x.request.argv.slice(2).join(' '));
    assert.deepEqual(
      lines.slice(1, 4),
      rounds.map((r) => `a ${r.args.join(' ')}`),
    );
  });

  it('recycled at birth: a worker born in the soak and replaced within 2 requests; not a warm-up worker replaced at the soak’s first request', () => {
    const r = (oldPid: number, newPid: number | null, oldRequests: number) => ({ oldPid, newPid, oldRequests });
    // 10 and 11 served the warm-up; 10 is replaced at the soak's first request (by 20), 20 after 1 request (by 21), 11 after 300.
    assert.equal(recycledAtBirth([r(10, 20, 1), r(20, 21, 1), r(11, 22, 300), r(21, 23, 5)]), 1);
    assert.equal(recycledAtBirth([r(10, 20, 0)]), 0);
  });
});
