import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../../src/errors.js';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: launch', () => {
  it("boots the variant's command on a free port, its environment filled in, and builds the protocol's load", async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    (scenario.variants[0] as { env: Record<string, string> }).env = { LISTEN: '127.0.0.1:{port}' };
    const ctx = contextOf(world, scenario);
    const b = await launchStage(ctx);
    assert.deepEqual(b.argv, ['srv', String(b.port), 'a']);
    assert.equal(b.env.LISTEN, `127.0.0.1:${b.port}`);
    assert.equal(b.protocol.name, 'http');
    assert.deepEqual(ctx.events, [{ stage: 'launch', tag: '[a 1/1]', pid: b.server.pid, port: b.port, argv: b.argv }]);
    assert.deepEqual(b.expected, { count: 2, source: 'declared' });
  });

  it("a FastCGI scenario's run speaks FastCGI", async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { requests: 4, connections: 2, path: '/', protocol: 'fastcgi', script: '/srv/app/index.php' };
    const b = await launchStage(contextOf(world, scenario));
    assert.equal(b.protocol.name, 'fastcgi');
    await b.load.flow(`http://127.0.0.1:${b.port}`, b.warmup, 4, () => {});
    assert.equal(world.events.filter((e) => e === 'request fastcgi a').length, 4);
  });

  it('a fixed port held by the previous server is waited for; held by a stranger, it is bad input at once', async () => {
    const world = makeWorld();
    const scenario = { ...scenarioOf(['a'], 1), port: 8000 };
    let held = 3;
    world.deps.launcher.assertPortFree = () => {
      if (held-- > 0) throw new MemcompareError('PORT_TAKEN', 'port 8000 is taken');
    };
    const ctx = { ...contextOf(world, scenario), previousStopping: () => true };
    const b = await launchStage(ctx);
    assert.equal(b.port, 8000);
    assert.deepEqual(
      ctx.events.map((e) => e.stage),
      ['port-wait', 'launch'],
    );
    held = 1;
    await assert.rejects(launchStage(contextOf(world, scenario)), (e: unknown) => e instanceof MemcompareError && e.code === 'PORT_TAKEN');
  });
});
