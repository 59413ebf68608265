import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { sampleStage } from '../../../../src/run/stages/sample.js';
import { settleStage } from '../../../../src/run/stages/settle.js';
import { warmStage } from '../../../../src/run/stages/warm.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: sample', () => {
  it("the settled sample's processes and totals, where the memory is, and the warnings", async () => {
    const world = makeWorld({ workerPssMiB: { a: 30 } });
    const ctx = contextOf(world, scenarioOf(['a'], 1));
    const b = await launchStage(ctx);
    const ready = await readyStage(ctx, b);
    const warmup = await warmStage(ctx, b, ready.workerPids);
    const settled = await settleStage(ctx, b, ready, warmup, () => world.deps.memory.sample(b.server, ctx.family));
    const measured = sampleStage(ctx, b, { ...settled, replaced: [4242] }, 2);
    assert.equal(measured.processes.length, 3);
    assert.equal(measured.totals.pssBytes, 80 * 1048576);
    assert.deepEqual(measured.mappings, { readMs: 0, groups: [], top: [] });
    assert.deepEqual(
      measured.warnings.map((w) => w.kind),
      ['worker-replaced'],
    );
    assert.equal(measured.warnings[0]?.variant, 'a');
  });
});
