import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../../src/errors.js';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: ready', () => {
  it('waits for every worker and says so', async () => {
    const world = makeWorld({ workers: 3 });
    const ctx = contextOf(world, scenarioOf(['a'], 1, 3));
    const b = await launchStage(ctx);
    const ready = await readyStage(ctx, b);
    assert.deepEqual(ready.workerPids, world.servers[0]?.workers);
    assert.deepEqual(ctx.events.at(-1), { stage: 'ready', tag: '[a 1/1]', bootMs: ready.bootMs, workers: 3, detected: false });
  });

  it("a port that answers in another protocol is bad input, in the warm-up protocol's words", async () => {
    const world = makeWorld();
    world.deps.wire.probe = async () => 'wrong-protocol';
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { requests: 4, connections: 2, path: '/', protocol: 'fastcgi', script: '/srv/app/index.php' };
    const ctx = contextOf(world, scenario);
    const b = await launchStage(ctx);
    await assert.rejects(
      readyStage(ctx, b),
      (e: unknown) => e instanceof MemcompareError && e.code === 'BAD_ARGUMENT' && /answers, but not in FastCGI/.test(e.message),
    );
  });

  it('a server that daemonized is stopped and reported', async () => {
    const world = makeWorld({ daemonize: true });
    const ctx = contextOf(world, scenarioOf(['a'], 1));
    const b = await launchStage(ctx);
    await assert.rejects(readyStage(ctx, b), (e: unknown) => e instanceof MemcompareError && e.code === 'SERVER_DAEMONIZED');
    assert.ok(world.events.includes('stop escapees 9000'));
  });
});
