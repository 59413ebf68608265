import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureOnce } from '../../../../src/run/measure.js';
import type { ServerFamily } from '../../../../src/servers/family.js';
import { familyNamed } from '../../../../src/servers/registry.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

const MiB = 1048576;

describe('stage: refork (a variant with refork)', () => {
  it("after the first generation settled: the family's signal, the new workers warmed to the first one's depth, then measured", async () => {
    // Each worker's PSS grows 1 MiB per 4 requests served: a fresh one (right after the refork) reads less.
    const world = makeWorld({ evenLoad: true, growth: (served) => served / 4 });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 8, connections: 2 };
    scenario.variants[0] = { ...(scenario.variants[0] as (typeof scenario.variants)[number]), refork: true };
    const generic = familyNamed('generic') as ServerFamily;
    const family: ServerFamily = {
      ...generic,
      refork: { signal: 'SIGURG', enabled: () => true, enable: 'scripted', schedule: 'scripted schedule' },
    };
    const ctx = { ...contextOf(world, scenario), family };
    const { record, stopped } = await measureOnce(ctx);
    await stopped;
    const f = record.refork;
    assert.ok(f, 'recorded');
    const server = world.servers[0];
    assert.ok(server);
    // The scripted signal replaces both workers (no mold in a flat tree): each new one warmed to 4 requests or more.
    assert.equal(f.workers, 2);
    const fresh = server.workers;
    for (const pid of fresh) assert.ok((server.served.get(pid) ?? 0) >= 4, `${pid} served ${server.served.get(pid)}`);
    assert.ok(f.afterBytes < f.beforeBytes, JSON.stringify(f));
    assert.ok(f.endBytes >= f.beforeBytes, 'warmed to the same depth, the new generation holds as much here');
    assert.equal(record.totals.pssBytes, f.endBytes, 'the new generation is what the run measures');
    assert.deepEqual(
      record.processes.filter((p) => p.role === 'worker').map((p) => p.pid),
      fresh,
    );
    assert.equal(f.schedule, 'scripted schedule');
    // In order: the first generation settled and sampled, the signal, the new generation sampled after it.
    const signalAt = world.events.indexOf(`signal SIGURG ${server.handle.pid}`);
    assert.ok(signalAt > 0, world.events.join('\n'));
    assert.ok(world.events.slice(0, signalAt).includes('sample a'));
    assert.ok(world.events.slice(signalAt).filter((e) => e === 'request http a').length >= 8);
    assert.deepEqual(
      ctx.events.filter((e) => e.stage === 'refork-signal' || e.stage === 'refork').map((e) => e.stage),
      ['refork-signal', 'refork'],
    );
    assert.ok(f.beforeBytes - f.afterBytes >= 2 * MiB, 'the first generation grew 1 MiB a worker; the new one starts fresh');
  });

  it('a scenario asks for a refork the server cannot do, or its command does not enable: a one-line error naming the fix', async () => {
    const { validateRefork } = await import('../../../../src/scenario/replacing.js');
    const fail = (field: string, value: unknown, fix: string): never => {
      throw new Error(`${field} ${JSON.stringify(value)}: ${fix}`);
    };
    assert.throws(
      () => validateRefork(fail, 'variants[1].refork', 'gunicorn', ['gunicorn']),
      /cannot fork its workers anew.*remove refork/,
    );
    assert.throws(
      () => validateRefork(fail, 'variants[1].refork', 'puma', ['puma', '-w', '4']),
      /variants\[1\]\.refork true: the command does not run in that mode: add --fork-worker/,
    );
    assert.equal(validateRefork(fail, 'variants[1].refork', 'puma', ['puma', '-w', '4', '--fork-worker=0']), true);
  });
});
