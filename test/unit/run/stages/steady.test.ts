import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { steadyStage } from '../../../../src/run/stages/steady.js';
import { warmStage } from '../../../../src/run/stages/warm.js';
import { STEADY } from '../../../../src/run/steady.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: steady', () => {
  it('rounds go out as flows of at most the steady in-flight bound until the workers stop growing', async () => {
    // 1 MiB per 10 requests up to 60 requests a worker, then still.
    const world = makeWorld({ evenLoad: true, growth: (served) => Math.min(served, 60) / 10 });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 30, connections: 30, until: 'steady' };
    const ctx = contextOf(world, scenario);
    const b = await launchStage(ctx);
    const ready = await readyStage(ctx, b);
    const first = await warmStage(ctx, b, ready.workerPids);
    const server = world.servers[0];
    assert.ok(server);
    server.maxInFlight = 0;
    const record = await steadyStage(ctx, b, ready, first);
    assert.equal(record.reached, true);
    assert.ok(record.requestsPerWorker >= 60, `depth ${record.requestsPerWorker}`);
    assert.ok(server.maxInFlight <= STEADY.inFlight, `in flight at most ${STEADY.inFlight} (saw ${server.maxInFlight})`);
    assert.ok(server.maxInFlight > 2, `the flow is concurrent (saw ${server.maxInFlight})`);
    assert.equal(ctx.events.at(-1)?.stage, 'steady');
  });
});
