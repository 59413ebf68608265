import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteMix, splitByWeight } from '../../../src/run/routes.js';
import type { TreeSample } from '../../../src/run/tree-sample.js';
import { parsePathSpec } from '../../../src/scenario/routes.js';
import { virtualClock } from './scripted.js';

const MiB = 1048576;

/** A tree sample of workers with these USS figures (only what the route fit reads). */
const sampleOf = (uss: Record<number, number>): TreeSample =>
  ({
    processes: Object.entries(uss).map(([pid, u]) => ({ pid: Number(pid), role: 'worker', ussBytes: u })),
    workers: Object.keys(uss).length,
  }) as unknown as TreeSample;

describe('routes: the soak sends them in turn, and tells their growth and peaks apart', () => {
  it('--path PATH[:WEIGHT]: a weight after the last colon; a path starts with /', () => {
    assert.deepEqual(parsePathSpec('/report:3'), { path: '/report', weight: 3 });
    assert.deepEqual(parsePathSpec('/a:b'), { path: '/a:b', weight: 1 });
    assert.match((parsePathSpec('report') as { error: string }).error, /starts with \//);
    assert.match((parsePathSpec('/x:0') as { error: string }).error, /above 0/);
  });

  it('a round split by weight, each route at least once', () => {
    assert.deepEqual(
      splitByWeight(
        [
          { path: '/a', weight: 3 },
          { path: '/b', weight: 1 },
        ],
        40,
      ),
      [30, 10],
    );
    assert.deepEqual(
      splitByWeight(
        [
          { path: '/a', weight: 100 },
          { path: '/b', weight: 1 },
        ],
        10,
      ),
      [10, 1],
    );
  });

  it('a route that keeps bytes a call, one that peaks and frees, one that does neither: each told apart', async () => {
    const clock = virtualClock();
    const routes = [
      { path: '/report', weight: 1 },
      { path: '/export', weight: 1 },
      { path: '/', weight: 1 },
    ];
    const mix = new RouteMix(routes, 9000);
    // Two workers; /report keeps 16 KiB a call, /export lifts USS by 40 MiB for a moment, / keeps nothing.
    const uss = { 1: 50 * MiB, 2: 50 * MiB };
    const served = new Map([
      [1, 0],
      [2, 0],
    ]);
    let t = 0;
    mix.begin(t, sampleOf(uss), served);
    for (let turn = 0; turn < 9; turn++) {
      const route = mix.current;
      for (const pid of [1, 2] as const) {
        const calls = 100 + 10 * turn + pid;
        served.set(pid, (served.get(pid) ?? 0) + calls);
        for (let k = 0; k < calls; k++) mix.answered();
        const grows = route === 0 ? calls * 16384 : 0;
        // The close reads halfway, on the worker's line (a little noise), /export's body built there for a moment.
        mix.read(t + 500, pid, uss[pid] + grows / 2 + 4096 + (route === 1 ? 40 * MiB : 0));
        mix.read(t + 510, pid, uss[pid] + grows / 2);
        uss[pid] += grows;
      }
      t += 1000;
      if (turn < 8)
        await mix.turn(
          clock,
          () => t,
          () => sampleOf(uss),
          served,
        );
    }
    mix.finish(t, sampleOf(uss), served);
    const [report, exporter, index] = mix.growth();
    assert.ok(report && exporter && index);
    assert.equal(report.segments, 3);
    assert.ok(Math.abs(report.bytesPerRequest - 16384) < 1, `${report.bytesPerRequest}`);
    assert.ok(report.r2 > 0.99);
    assert.ok(report.interval[0] <= report.bytesPerRequest && report.bytesPerRequest <= report.interval[1], `${report.interval}`);
    assert.ok(report.transientPeakBytes < 1 * MiB, 'what a route keeps is growth, not a peak');
    assert.ok(Math.abs(exporter.bytesPerRequest) < 1024);
    assert.ok(exporter.transientPeakBytes >= 40 * MiB, `${exporter.transientPeakBytes}`);
    assert.ok(Math.abs(index.bytesPerRequest) < 1024);
    assert.ok(index.transientPeakBytes < 1 * MiB);
    assert.ok(report.requests > 0 && exporter.requests > 0 && index.requests > 0);
  });

  it('while the routes change, no lane sends: the requests in flight are answered first', async () => {
    const clock = virtualClock();
    const mix = new RouteMix(
      [
        { path: '/a', weight: 1 },
        { path: '/b', weight: 1 },
      ],
      4000,
    );
    mix.begin(0, sampleOf({ 1: MiB }), new Map());
    mix.inFlight = 1;
    let sent = false;
    const turning = mix.turn(
      clock,
      () => 1000,
      () => sampleOf({ 1: MiB }),
      new Map(),
    );
    const lane = mix.ready().then(() => {
      sent = true;
    });
    await clock.sleep(10);
    assert.equal(sent, false, 'a lane waits while a request is still in flight');
    mix.inFlight = 0;
    await turning;
    await lane;
    assert.equal(sent, true);
    assert.equal(mix.current, 1);
  });
});
