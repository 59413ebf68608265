import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemcompareError } from '../../../src/errors.js';
import type { ResultsDocument } from '../../../src/results/types.js';
import { runOrder, runScenario } from '../../../src/run/engine.js';
import { withBaseline } from '../../../src/run/worktree.js';
import { makeWorld, scenarioOf } from './world.js';

/** Launch events, in order, by variant name. */
const launches = (events: string[]) => events.filter((e) => e.startsWith('launch ')).map((e) => e.split(' ')[1]);

describe('whole runs on a scripted host (no process is started)', () => {
  it('runs two variants three times each, interleaved A B A B A B, and stops every server', async () => {
    const world = makeWorld({ workerPssMiB: { a: 30, b: 10 } });
    const updates: ResultsDocument[] = [];
    const doc = await runScenario(scenarioOf(['a', 'b'], 3), { onUpdate: (d) => updates.push(structuredClone(d)) }, world.deps);
    assert.deepEqual(launches(world.events), ['a', 'b', 'a', 'b', 'a', 'b']);
    assert.deepEqual(runOrder(2, 2), [
      { run: 1, variant: 0 },
      { run: 1, variant: 1 },
      { run: 2, variant: 0 },
      { run: 2, variant: 1 },
    ]);
    assert.equal(world.live().length, 0);
    assert.equal(doc.complete, true);
    assert.deepEqual(
      doc.variants.map((v) => v.runs.length),
      [3, 3],
    );
    // The sink got the document after each of the 6 runs and once at the end.
    assert.equal(updates.length, 7);
    assert.deepEqual(
      updates.map((u) => u.complete),
      [false, false, false, false, false, false, true],
    );
    // 20 MiB master + 2 workers: 80 MiB against 40 MiB, the second against the first.
    const cmp = doc.summary.comparisons[0];
    assert.equal(cmp?.baseline, 'a');
    assert.equal(cmp?.variant, 'b');
    assert.equal(doc.summary.variants[0]?.totalPssBytes.median, 80 * 1048576);
    assert.equal(doc.summary.variants[1]?.totalPssBytes.median, 40 * 1048576);
    // Every worker served before anything was recorded: the warm-up's evidence, with top-ups.
    for (const v of doc.variants)
      for (const r of v.runs) {
        assert.deepEqual(r.warmup.idleWorkers, []);
        assert.equal(Object.keys(r.warmup.requestsPerWorker ?? {}).length, 2);
      }
  });

  it('warms a worker that replaced one after the warm-up, settles again and says so', async () => {
    let replacedPid = 0;
    const world = makeWorld({
      beforeSample: (server, w) => {
        // The second server loses its first worker just after its warm-up.
        if (w.servers.indexOf(server) === 1 && server.samples === 0) replacedPid = w.replaceWorker(server, 0);
      },
    });
    const doc = await runScenario(scenarioOf(['a', 'b'], 1), {}, world.deps);
    const run = doc.variants[1]?.runs[0];
    assert.ok(replacedPid > 0);
    assert.ok(run?.processes.some((p) => p.pid === replacedPid));
    // The new worker served requests of a second warm-up before the sample that was recorded.
    assert.ok((run?.warmup.requestsPerWorker?.[String(replacedPid)] ?? 0) > 0, JSON.stringify(run?.warmup.requestsPerWorker));
    const kinds = run?.warnings.map((w) => w.kind) ?? [];
    assert.ok(kinds.includes('worker-replaced'), kinds.join(','));
    const afterReplace = world.events.slice(world.events.findIndex((e) => e.startsWith('replace')));
    assert.ok(
      afterReplace.some((e) => e === 'request http b'),
      afterReplace.join('\n'),
    );
    // The other variant's run is untouched.
    assert.equal(doc.variants[0]?.runs[0]?.warnings.length, 0);
  });

  it('stops a daemonizing server and fails with SERVER_DAEMONIZED, the document incomplete', async () => {
    const world = makeWorld({ daemonize: true });
    let last: ResultsDocument | undefined;
    await assert.rejects(
      runScenario(scenarioOf(['a']), { onUpdate: (d) => (last = structuredClone(d)) }, world.deps),
      (e: unknown) => e instanceof MemcompareError && e.code === 'SERVER_DAEMONIZED' && /pid 9000/.test(e.message),
    );
    assert.ok(world.events.includes('stop escapees 9000'), world.events.join('\n'));
    assert.equal(last?.complete, false);
    assert.match(last?.incompleteReason ?? '', /daemonized/);
  });

  it('an interrupt during the second run keeps the first, marks the document incomplete and stops the server', async () => {
    const controller = new AbortController();
    const world = makeWorld({
      beforeRequest: (server, w) => {
        if (w.servers.indexOf(server) === 1) controller.abort(new MemcompareError('INTERRUPTED', 'run interrupted by SIGTERM'));
      },
    });
    let last: ResultsDocument | undefined;
    await assert.rejects(
      runScenario(scenarioOf(['a', 'b'], 2), { onUpdate: (d) => (last = structuredClone(d)), signal: controller.signal }, world.deps),
      (e: unknown) => e instanceof MemcompareError && e.code === 'INTERRUPTED',
    );
    assert.equal(last?.complete, false);
    assert.match(last?.incompleteReason ?? '', /interrupted/);
    assert.equal(last?.variants[0]?.runs.length, 1);
    assert.equal(last?.variants[1]?.runs.length, 0);
    assert.equal(world.live().length, 0);
    assert.deepEqual(launches(world.events), ['a', 'b']);
  });

  it('an output sink that fails ends the run with its error, every server stopped', async () => {
    const world = makeWorld();
    let calls = 0;
    const sink = () => {
      calls++;
      if (calls === 2)
        throw new MemcompareError('OUTPUT_UNWRITABLE', 'out.json: cannot be written (ENOSPC); free space or choose another path');
    };
    await assert.rejects(
      runScenario(scenarioOf(['a', 'b'], 2), { onUpdate: sink }, world.deps),
      (e: unknown) => e instanceof MemcompareError && e.code === 'OUTPUT_UNWRITABLE',
    );
    assert.deepEqual(launches(world.events), ['a', 'b']);
    assert.equal(world.live().length, 0);
  });

  it('--baseline-ref: the base variant runs in the base worktree, the head in the working tree, pairwise', async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 2);
    const tree = {
      base: { ref: 'main', commit: 'b'.repeat(40), role: 'base' as const, dirty: false },
      head: { ref: 'HEAD', commit: 'h'.repeat(40), role: 'head' as const, dirty: false },
      inBase: (p: string) => p.replace('/srv/app', '/tmp/memcompare-base-1/app'),
    };
    scenario.variants = withBaseline(scenario.variants, scenario.cwd, tree);
    const doc = await runScenario(scenario, {}, world.deps);
    const launched = world.events.filter((e) => e.startsWith('launch '));
    assert.deepEqual(launched, [
      'launch a in /tmp/memcompare-base-1/app',
      'launch a in /srv/app',
      'launch a in /tmp/memcompare-base-1/app',
      'launch a in /srv/app',
    ]);
    assert.deepEqual(
      doc.variants.map((v) => [v.name, v.revision?.role]),
      [
        ['a@base', 'base'],
        ['a', 'head'],
      ],
    );
    assert.equal(doc.summary.comparisons[0]?.baseline, 'a@base');
  });

  it('warm-up until steady: rounds go on while workers grow, stop once still, and record the depth', async () => {
    // Each worker grows 1 MiB PSS per 10 requests up to 40 requests, then holds (10 requests a round).
    const world = makeWorld({ evenLoad: true, growth: (served) => Math.min(served, 40) / 10 });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 10, connections: 10, until: 'steady' };
    const doc = await runScenario(scenario, {}, world.deps);
    const s = doc.variants[0]?.runs[0]?.warmup.steady;
    assert.ok(s);
    assert.equal(s.reached, true);
    assert.equal(s.linear, false);
    assert.ok(s.requestsPerWorker >= 40, `depth ${s.requestsPerWorker}`);
    // Rounds double while the workers grow (10, 20, 40 …): few rounds, not forty tiny ones.
    assert.ok(s.rounds >= 2 && s.rounds <= 5, `${s.rounds} rounds`);
    assert.ok(s.durationMs >= 0);
    assert.deepEqual(
      doc.warnings.filter((w) => w.kind === 'warmup-not-steady'),
      [],
    );
  });

  it("a variant run again at the common depth keeps its first boot's throughput phase instead of running it again", async () => {
    // a steadies at 20 requests per worker, b at 2,000 (deeper than a's rounds past steady reach): a is run again at b's depth.
    const world = makeWorld({ evenLoad: true, growth: (served, v) => Math.min(served, v === 'a' ? 20 : 2000) / 10 });
    const scenario = scenarioOf(['a', 'b'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 10, connections: 10, until: 'steady' };
    scenario.throughput = { durationSeconds: 1 };
    const doc = await runScenario(scenario, {}, world.deps);
    assert.equal(world.servers.length, 3, 'a, b, and a again');
    assert.equal(world.events.filter((e) => e.startsWith('sustain')).length, 2, 'one throughput phase per variant');
    const a = doc.variants[0]?.runs;
    assert.equal(a?.length, 1);
    assert.ok(a?.[0]?.warmup.steady?.replacedDepth !== undefined, 'the shallow run was replaced');
    assert.ok((a?.[0]?.throughput?.requests ?? 0) > 0, "and the replacement keeps the first boot's throughput");
  });

  it('the first variant warms on past steady while rounds are cheap, the next goes on to its depth: neither boots again', async () => {
    // a steadies at 20 requests per worker, b at 80; rounds take no time on the scripted clock, so a goes on its 4 rounds.
    const world = makeWorld({ evenLoad: true, growth: (served, v) => Math.min(served, v === 'a' ? 20 : 80) / 10 });
    const scenario = scenarioOf(['a', 'b'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 10, connections: 10, until: 'steady' };
    const doc = await runScenario(scenario, {}, world.deps);
    assert.equal(world.servers.length, 2, 'a and b, once each');
    const [a, b] = doc.variants.map((v) => v.runs[0]?.warmup.steady);
    assert.equal(a?.warmedOn, 'while-cheap');
    assert.ok((a?.steadyAtRequestsPerWorker ?? 0) < (a?.requestsPerWorker ?? 0), 'a went on past the depth it was steady at');
    assert.ok(a?.reached && b?.reached);
    assert.ok(
      Math.abs((b?.requestsPerWorker ?? 0) - (a?.requestsPerWorker ?? 0)) <= 0.05 * (a?.requestsPerWorker ?? 0),
      `a ${a?.requestsPerWorker}, b ${b?.requestsPerWorker}`,
    );
    assert.equal(b?.warmedOn, 'to-an-earlier-variant');
  });

  it('warm-up until steady: a cache of 4 KiB a request, full at 500 requests, is not steady after one round (an absolute 64 KiB a round was)', async () => {
    const KiB = 1 / 1024;
    const world = makeWorld({ evenLoad: true, growth: (served) => Math.min(served, 500) * 4 * KiB });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 10, connections: 10, until: 'steady' };
    const doc = await runScenario(scenario, {}, world.deps);
    const s = doc.variants[0]?.runs[0]?.warmup.steady;
    assert.ok(s?.reached);
    assert.ok((s?.requestsPerWorker ?? 0) >= 500, `depth ${s?.requestsPerWorker}: stopped before the cache was full`);
  });

  it('warm-up until steady: a worker that grows the same every round is growth, not waited for', async () => {
    const world = makeWorld({ evenLoad: true, growth: (served) => served / 10 });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 30, connections: 30, until: 'steady' };
    const doc = await runScenario(scenario, {}, world.deps);
    const s = doc.variants[0]?.runs[0]?.warmup.steady;
    assert.equal(s?.linear, true);
    assert.equal(s?.reached, false);
    assert.ok((s?.rounds ?? 0) < 50, `${s?.rounds} rounds: stopped before the bound`);
  });

  it('the warm-up goes out as the HTTP flow: lanes on the wire, at most the connections in flight', async () => {
    const world = makeWorld({ evenLoad: true });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { ...scenario.warmup, requests: 40, connections: 5, until: 'count' };
    const doc = await runScenario(scenario, {}, world.deps);
    const server = world.servers[0];
    assert.ok(server);
    assert.equal(doc.variants[0]?.runs[0]?.warmup.requests, 40);
    assert.ok(server.maxInFlight <= 5, `at most the connections in flight (saw ${server.maxInFlight})`);
    assert.ok(server.maxInFlight >= 4, `the connections are used (saw ${server.maxInFlight})`);
    assert.equal(world.events.filter((e) => e === 'request http a').length, 40);
  });

  it('a FastCGI warm-up goes out as its lanes, each request naming the script, exactly the requests asked', async () => {
    const world = makeWorld({ evenLoad: true });
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = {
      requests: 24,
      connections: 3,
      path: '/',
      protocol: 'fastcgi',
      script: '/srv/app/index.php',
      workerPidHeader: 'X-Worker-Pid',
      until: 'count',
    };
    const doc = await runScenario(scenario, {}, world.deps);
    const run = doc.variants[0]?.runs[0];
    const server = world.servers[0];
    assert.equal(run?.warmup.requests, 24);
    assert.equal(world.events.filter((e) => e === 'request fastcgi a').length, 24);
    assert.ok((server?.maxInFlight ?? 0) <= 3, `saw ${server?.maxInFlight}`);
    assert.deepEqual([...new Set(server?.scripts)], ['/srv/app/index.php']);
    assert.equal(run?.warmup.trafficEvidence, 'pid-header');
  });

  it('a command warm-up runs the command with the services filled in, its printed pids the evidence', async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = {
      requests: 1,
      connections: 1,
      path: '/',
      command: ['send-tasks', '--n', '3'],
      workerPidHeader: 'X-Worker-Pid',
      until: 'count',
    };
    const doc = await runScenario(scenario, {}, world.deps);
    const run = doc.variants[0]?.runs[0];
    assert.ok(world.events.includes('command send-tasks --n 3'), world.events.join('\n'));
    assert.deepEqual(Object.keys(run?.warmup.requestsPerWorker ?? {}).sort(), world.servers[0]?.workers.map(String).sort());
    assert.deepEqual(run?.warmup.idleWorkers, []);
  });

  it('a warm-up command printing pids that are not workers is bad input, and the server is stopped', async () => {
    const world = makeWorld();
    const scenario = scenarioOf(['a'], 1);
    scenario.warmup = { requests: 1, connections: 1, path: '/', command: ['send-tasks'], workerPidHeader: 'X-Worker-Pid', until: 'count' };
    world.deps.wire.command = async () => ({ stdout: '1\n', durationMs: 1 });
    await assert.rejects(
      runScenario(scenario, {}, world.deps),
      (e: unknown) => e instanceof MemcompareError && e.code === 'BAD_ARGUMENT' && /printed pids that are not workers/.test(e.message),
    );
    assert.equal(world.live().length, 0);
  });

  it('events in order, and the document stamped with the clock, not the wall', async () => {
    const world = makeWorld();
    const events: string[] = [];
    const doc = await runScenario(scenarioOf(['a'], 1), { onEvent: (e) => events.push(e.stage) }, world.deps);
    assert.deepEqual(
      events.filter((e, i) => events.indexOf(e) === i),
      ['launch', 'ready', 'steady', 'warm', 'settle', 'sample', 'stop'].filter((e) => e !== 'steady' || events.includes('steady')),
    );
    assert.equal(doc.startedAt, '2026-01-01T00:00:00.000Z');
  });
});
