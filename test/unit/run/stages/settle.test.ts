import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { settleStage } from '../../../../src/run/stages/settle.js';
import { warmStage } from '../../../../src/run/stages/warm.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: settle', () => {
  it('a worker replaced since the warm-up is warmed, the tree settled again, the first depth kept on record', async () => {
    let replaced = 0;
    const world = makeWorld({
      beforeSample: (server, w) => {
        if (server.samples === 0) replaced = w.replaceWorker(server, 1);
      },
    });
    const ctx = contextOf(world, scenarioOf(['a'], 1));
    const b = await launchStage(ctx);
    const ready = await readyStage(ctx, b);
    const first = await warmStage(ctx, b, ready.workerPids);
    first.steady = {
      rounds: 2,
      requests: 40,
      requestsPerWorker: 20,
      durationMs: 5,
      reached: true,
      linear: false,
      lastBytesPerRequest: 0,
      thresholdBytesPerRequest: 1024,
    } as unknown as NonNullable<typeof first.steady>;
    const settled = await settleStage(ctx, b, ready, first, () => world.deps.memory.sample(b.server, ctx.family));
    assert.deepEqual(settled.replaced, [replaced]);
    assert.ok((settled.warmup.requestsPerWorker?.[String(replaced)] ?? 0) > 0, 'the new worker served');
    assert.equal(settled.warmup.steady, first.steady);
    assert.equal(settled.settleRecord.settled, true);
    assert.deepEqual(
      ctx.events.filter((e) => e.stage === 'settle' || e.stage === 'rewarm').map((e) => e.stage),
      ['settle', 'rewarm'],
    );
  });
});
