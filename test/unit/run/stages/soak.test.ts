import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { soakStage } from '../../../../src/run/stages/soak.js';
import { warmStage } from '../../../../src/run/stages/warm.js';
import { gunicorn } from '../../../../src/servers/gunicorn.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

const MiB = 1048576;

describe('stage: soak', () => {
  it('keeps its lanes busy for its duration, counts every answer, and advises recycling under a limit', async () => {
    // Each worker keeps 64 KiB a request.
    const world = makeWorld({ evenLoad: true, growth: (served) => served / 16 });
    const scenario = { ...scenarioOf(['a'], 1), server: 'gunicorn' };
    scenario.soak = { durationSeconds: 30, connections: 4, intervalMs: 100, maxCpuPercent: 50 };
    const ctx = { ...contextOf(world, scenario, { maxWorkerUssBytes: 64 * MiB }), family: gunicorn };
    const b = await launchStage(ctx);
    const ready = await readyStage(ctx, b);
    const warmup = await warmStage(ctx, b, ready.workerPids);
    const mark = world.events.length;
    const soaked = await soakStage(ctx, b, () => world.deps.memory.sample(b.server, gunicorn), 2, warmup);
    const sent = world.events.slice(mark).filter((e) => e === 'request http a').length;
    assert.ok(soaked.requests >= 400, `${soaked.requests} requests in 30 s of scripted time`);
    assert.ok(sent >= soaked.requests && sent <= soaked.requests + 4, `${sent} sent, ${soaked.requests} answered`);
    assert.equal(soaked.client, 'lanes');
    assert.ok(soaked.growth, 'growth fitted');
    assert.ok(
      Math.abs((soaked.growth?.bytesPerRequest ?? 0) - 32 * 1024) < 1024,
      `${soaked.growth?.bytesPerRequest} B a request (USS is half the PSS here)`,
    );
    assert.match(soaked.advice?.setting ?? '', /--max-requests \d+/);
    assert.deepEqual(
      ctx.events.filter((e) => e.stage === 'soak').map((e) => e.stage),
      ['soak'],
    );
    assert.ok(ctx.events.some((e) => e.stage === 'soak-tick'));
  });
});
