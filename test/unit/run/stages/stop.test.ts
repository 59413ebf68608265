import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { abortStage, stopStage } from '../../../../src/run/stages/stop.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: stop', () => {
  it("stops with the family's own bound, says so, and removes the run's files after", async () => {
    const world = makeWorld();
    const ctx = contextOf(world, scenarioOf(['a'], 1));
    const b = await launchStage(ctx);
    let removed = 0;
    b.config = { path: '/tmp/x.conf', remove: () => removed++ };
    await stopStage(ctx, b);
    assert.ok(world.events.includes('stop a'));
    assert.equal(removed, 1);
    assert.deepEqual(ctx.events.at(-1), { stage: 'stop', tag: '[a 1/1]', forced: false });
  });

  it('interrupted, the graceful stop is short (a signal must end memcompare within a second or two)', async () => {
    const world = makeWorld();
    const ac = new AbortController();
    const ctx = contextOf(world, scenarioOf(['a'], 1), { signal: ac.signal });
    const b = await launchStage(ctx);
    ac.abort();
    await abortStage(ctx, b);
    assert.ok(world.events.includes('stop a within 600 ms'), world.events.join('\n'));
    const other = await launchStage(contextOf(world, scenarioOf(['b'], 1)));
    await abortStage(contextOf(world, scenarioOf(['b'], 1)), other);
    assert.ok(world.events.includes('stop b'), 'a failed run gets the family bound');
  });
});
