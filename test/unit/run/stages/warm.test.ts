import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../../src/errors.js';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { warmStage } from '../../../../src/run/stages/warm.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

async function booted(world: ReturnType<typeof makeWorld>, scenario: ReturnType<typeof scenarioOf>) {
  const ctx = contextOf(world, scenario);
  const b = await launchStage(ctx);
  const ready = await readyStage(ctx, b);
  return { ctx, b, ready };
}

describe('stage: warm', () => {
  it("sends the scenario's requests and proves every worker served (topped up where one did not)", async () => {
    const world = makeWorld();
    const { ctx, b, ready } = await booted(world, scenarioOf(['a'], 1));
    const w = await warmStage(ctx, b, ready.workerPids);
    assert.equal(w.requests, 4);
    assert.equal(w.trafficEvidence, 'pid-header');
    assert.deepEqual(w.idleWorkers, []);
  });

  it('several routes: each gets its share of the requests by weight, the first one too', async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = {
      requests: 30,
      connections: 2,
      path: '/a',
      routes: [
        { path: '/a', weight: 1 },
        { path: '/b', weight: 2 },
      ],
    };
    const { ctx, b, ready } = await booted(world, scenario);
    const paths: string[] = [];
    const exchange = world.deps.wire.exchange;
    world.deps.wire.exchange = (protocol, target, settings, signal) => {
      paths.push(settings.path);
      return exchange(protocol, target, settings, signal);
    };
    const w = await warmStage(ctx, b, ready.workerPids);
    // 10 and 20 (the first route once took all 30, then the second its 20: 50 in all).
    assert.equal(paths.filter((p) => p === '/a').length, 10);
    assert.equal(paths.filter((p) => p === '/b').length, 20);
    assert.equal(w.requests, 30);
  });

  it("answers that all say the script is unknown are bad input, in the protocol's words", async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { requests: 4, connections: 2, path: '/', protocol: 'fastcgi', script: '/srv/app/missing.php' };
    const { ctx, b, ready } = await booted(world, scenario);
    world.deps.wire.exchange = async () => ({ status: 404, workerPid: undefined });
    await assert.rejects(
      warmStage(ctx, b, ready.workerPids),
      (e: unknown) =>
        e instanceof MemcompareError && /warmup.script ".*missing.php": the pool answered 404 to every request/.test(e.message),
    );
  });

  it('a warm-up command that prints no pids is bad input', async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { requests: 1, connections: 1, path: '/', command: ['send'] };
    const { ctx, b, ready } = await booted(world, scenario);
    world.deps.wire.command = async () => ({ stdout: 'done\n', durationMs: 1 });
    await assert.rejects(warmStage(ctx, b, ready.workerPids), /warmup.command "send": printed no pids/);
  });
});
