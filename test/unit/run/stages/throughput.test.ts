import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../../src/errors.js';
import { verdictLines } from '../../../../src/render/comparison.js';
import type { ResultsDocument } from '../../../../src/results/types.js';
import { runScenario } from '../../../../src/run/engine.js';
import { makeWorld, scenarioOf } from '../world.js';

const withThroughput = (variants: string[], runs: number, durationSeconds = 2) => ({
  ...scenarioOf(variants, runs),
  throughput: { durationSeconds, connections: 8 },
});

describe('stage: throughput', () => {
  it('after the sample, before the stop: every run recorded, each variant summarised, the paired ratio and the verdict', async () => {
    const world = makeWorld({ requestsPerSecond: { a: 1000, b: 1500 } });
    const doc = await runScenario(withThroughput(['a', 'b'], 3), {}, world.deps);
    for (const v of doc.variants) {
      for (const r of v.runs) {
        assert.equal(r.throughput?.client, 'autocannon');
        assert.equal(r.throughput?.connections, 8);
        assert.equal(r.throughput?.durationMs, 2000);
        assert.equal(r.throughput?.requestsPerSecond, v.name === 'a' ? 1000 : 1500);
      }
    }
    // The phase comes after the last sample of its server and before its stop.
    const e = world.events;
    const sustain = e.indexOf('sustain a 8 2000');
    assert.ok(sustain > e.lastIndexOf('sample a', e.indexOf('stop a')) && sustain < e.indexOf('stop a'), e.join('\n'));
    assert.ok(e.indexOf('keeps-alive? a') < sustain);
    const b = doc.summary.variants.find((s) => s.name === 'b');
    assert.equal(b?.throughput?.requestsPerSecond.median, 1500);
    const c = doc.summary.throughput?.[0];
    assert.equal(c?.pairs, 3);
    assert.ok(c && Math.abs(c.ratio - 1.5) < 1e-9 && c.low === c.ratio && c.high === c.ratio, JSON.stringify(c));
    assert.match(
      verdictLines(doc.summary)[0] ?? '',
      /^b against a: (saves|uses) .*; 50\.0% more requests\/s \(95% interval \+50\.0% to \+50\.0%\)/,
    );
  });

  it('a server that closes its connections is loaded a connection per request, by the lanes', async () => {
    const world = makeWorld({ closesConnections: true });
    const doc = await runScenario(withThroughput(['a'], 1, 0.1), {}, world.deps);
    const t = doc.variants[0]?.runs[0]?.throughput;
    assert.equal(t?.client, 'lanes');
    assert.equal(t?.keepAlive, false);
    assert.ok(t && t.requests > 8 && t.requests === t.statusCodes['200'], JSON.stringify(t));
    assert.ok(t.requestsPerSecond > 0 && t.latencyMs.p99 >= t.latencyMs.p50);
    assert.ok(!world.events.some((x) => x.startsWith('sustain')));
    assert.ok(world.events.includes('closing a'), 'each request on a connection that closes');
  });

  it('interrupted in the phase: the run is kept with its memory, the phase marked cut, the document incomplete', async () => {
    const ac = new AbortController();
    let requests = 0;
    // The lanes' requests run in the phase only (the warm-up's are 4 plus top-ups): abort in the middle of it.
    const world = makeWorld({
      closesConnections: true,
      beforeRequest: () => {
        if (++requests === 60) ac.abort(new MemcompareError('INTERRUPTED', 'interrupted'));
      },
    });
    const saved: ResultsDocument[] = [];
    await assert.rejects(
      runScenario(withThroughput(['a', 'b'], 2, 5), { signal: ac.signal, onUpdate: (d) => saved.push(structuredClone(d)) }, world.deps),
      /interrupted/,
    );
    const last = saved.at(-1) as ResultsDocument;
    assert.equal(last.complete, false);
    const run = last.variants[0]?.runs[0];
    assert.equal(run?.throughput?.cut, true);
    assert.ok(run && run.totals.pssBytes > 0, 'the memory measured is kept');
    assert.equal(last.variants[1]?.runs.length, 0, 'no run after the interrupt');
    assert.equal(last.summary.throughput, undefined, 'a cut phase is not compared');
  });

  it('--no-throughput (no settings): no phase, nothing asked of the server', async () => {
    const world = makeWorld();
    const doc = await runScenario(scenarioOf(['a'], 1), {}, world.deps);
    assert.equal(doc.variants[0]?.runs[0]?.throughput, undefined);
    assert.ok(!world.events.some((x) => x.startsWith('keeps-alive') || x.startsWith('sustain')));
  });
});
