import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcessRecord } from '../../../src/results/types.js';
import type { BatchResult, LoadGenerator } from '../../../src/run/seams.js';
import { soak } from '../../../src/run/soak.js';
import type { TreeSample } from '../../../src/run/tree-sample.js';
import { virtualClock } from './scripted.js';

const MiB = 1024 * 1024;
const EXIT_MS = 2000;

/**
 * A scripted server of two workers on a fake clock: worker 200 holds at 10 MiB; worker 201 grows
 * 2 MiB a second until its recycling line at `lineAt`, then copies `copy` over the next 2 s (as a preloaded
 * worker's exit takes here) and is
 * gone (worker 202 takes its place). `spuriousAt`: an earlier line that no exit follows, so that the
 * watch it starts is still running, from 201's youth, when 201 exits.
 */
function scripted(o: {
  lineAt: number;
  copy: number;
  spuriousAt?: number;
  durationSeconds?: number;
  /** The lines name their worker (200 the spurious one, 201 its own), as gunicorn's and uWSGI's do. */
  named?: boolean;
  /** When 201's line is heard, if later than it was printed (`lineAt`): memcompare's event loop busy with load. */
  heardAt?: number;
  /** 201 starts at this time (a worker the server replaced a moment before), growing this fast (default 2 MiB/s). */
  bornAt?: number;
  growthPerSecond?: number;
}) {
  const clock = virtualClock();
  const listeners: ((pid?: number) => void)[] = [];
  const fired = new Set<number>();
  const ussOf = (pid: number): number | undefined => {
    const t = clock.now();
    if (pid === 200) return 10 * MiB;
    if (pid === 201) {
      const born = o.bornAt ?? 0;
      if (t < born) return undefined;
      const grown = 10 * MiB + (o.growthPerSecond ?? 2 * MiB) * ((Math.min(t, o.lineAt) - born) / 1000);
      if (t < o.lineAt) return grown;
      if (t < o.lineAt + EXIT_MS) return grown + (o.copy * (t - o.lineAt)) / EXIT_MS;
      return undefined;
    }
    if (pid === 202 && t >= o.lineAt + EXIT_MS) return 10 * MiB;
    return undefined;
  };
  const record = (pid: number, uss: number): ProcessRecord =>
    ({ pid, ppid: 100, role: 'worker', ussBytes: uss, pssBytes: uss, rssBytes: uss * 2 }) as ProcessRecord;
  const sample = (): TreeSample => {
    const processes = [200, 201, 202].flatMap((pid) => {
      const u = ussOf(pid);
      return u === undefined ? [] : [record(pid, u)];
    });
    const snapshot = {
      totals: { pssBytes: processes.reduce((a, p) => a + p.pssBytes, 0) },
      processes: processes.map((p) => ({ ...p, fields: {} })),
    } as unknown as TreeSample['snapshot'];
    return { snapshot, processes, workers: processes.length };
  };
  const fire = (at: number, pid: number) => {
    if (clock.now() >= at && !fired.has(at)) {
      fired.add(at);
      for (const l of listeners) l(o.named ? pid : undefined);
    }
  };
  const load = {
    // The soak's lanes send one request at a time; each takes 10 ms of scripted time.
    async flow(_url: string, _s: unknown, amount: number, onResponse: Parameters<LoadGenerator['flow']>[3]): Promise<BatchResult> {
      await clock.sleep(10);
      if (o.spuriousAt !== undefined) fire(o.spuriousAt, 200);
      fire(o.heardAt ?? o.lineAt, 201);
      for (let i = 0; i < amount; i++) onResponse(200, undefined);
      return { requests: amount, sent: amount, errors: 0, timeouts: 0, latenciesMs: [] };
    },
    reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
  };
  return soak({
    port: 1,
    path: '/',
    settings: { durationSeconds: o.durationSeconds ?? 8, connections: 2, intervalMs: 100, maxCpuPercent: 50 },
    load,
    sample,
    alive: () => {},
    clock,
    expectedWorkers: 2,
    onRecycleLine: (listener) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    ussOf,
  });
}

describe('the exit watch', () => {
  it('measures the copy from the USS when the line was heard, not from a watch that began long before', async () => {
    const r = await scripted({ lineAt: 3000, copy: 4 * MiB, spuriousAt: 500 });
    assert.ok(r.exitCopy, 'an exit was watched');
    assert.equal(r.exitCopy.source, 'measured');
    assert.equal(r.exitCopy.count, 1, 'one worker exited, counted once');
    // 201 grew 5 MiB between the spurious line and its own: none of that is its exit.
    assert.ok(Math.abs(r.exitCopy.bytes - 4 * MiB) < 0.5 * MiB, `copy ${r.exitCopy.bytes / MiB} MiB, made 4 MiB`);
    const peak = r.exitPeakUssBytes?.['201'] ?? 0;
    assert.ok(Math.abs(peak - 20 * MiB) < 0.5 * MiB, `peak ${peak / MiB} MiB`);
  });

  it('watches a line heard while an earlier watch ran out its bound', async () => {
    const r = await scripted({ lineAt: 5200, copy: 4 * MiB, spuriousAt: 100, durationSeconds: 10 });
    assert.equal(r.exitCopy?.source, 'measured', 'the exit after the first watch gave up was watched');
    assert.ok(Math.abs((r.exitCopy?.bytes ?? 0) - 4 * MiB) < 0.5 * MiB, `copy ${(r.exitCopy?.bytes ?? 0) / MiB} MiB`);
  });

  it('sets an exit against its own line where lines name the worker, and leaves one out whose line came after it was gone', async () => {
    // Heard in time: the spurious line names another worker, so 201's copy starts at its own line.
    const onTime = await scripted({ lineAt: 3000, copy: 4 * MiB, spuriousAt: 500, named: true });
    assert.equal(onTime.exitCopy?.source, 'measured');
    assert.ok(Math.abs((onTime.exitCopy?.bytes ?? 0) - 4 * MiB) < 0.5 * MiB, `copy ${(onTime.exitCopy?.bytes ?? 0) / MiB} MiB`);
    // Heard after 201 was gone (at 5,000): its exit's start is unknown. Set against 200's line it would read 201's
    // growth since 500 as its copy (9 MiB); not counted, and nothing else was measured.
    const late = await scripted({ lineAt: 3000, heardAt: 5500, copy: 4 * MiB, spuriousAt: 500, named: true });
    assert.equal(late.exitCopy, undefined, JSON.stringify(late.exitCopy));
    // Without names the last line heard stands in (what a server whose line carries no pid gets).
    const unnamed = await scripted({ lineAt: 3000, heardAt: 5500, copy: 4 * MiB, spuriousAt: 500 });
    assert.ok((unnamed.exitCopy?.bytes ?? 0) > 8 * MiB, `copy ${(unnamed.exitCopy?.bytes ?? 0) / MiB} MiB`);
  });

  it('leaves out the regular sample of a worker sampled only once (no rate to carry it forward to the line)', async () => {
    // 201 born at 2,950 and sampled once (at 3,000 or so) before its line at 3,090, growing 40 MiB/s under load: its
    // sample is up to 3.6 MiB below its USS at the line, none of which its exit copied.
    const r = await scripted({ lineAt: 3090, bornAt: 2950, growthPerSecond: 40 * MiB, copy: 1 * MiB, named: true });
    assert.equal(r.exitCopy?.source, 'measured');
    assert.ok(Math.abs((r.exitCopy?.bytes ?? 0) - 1 * MiB) < 0.5 * MiB, `copy ${(r.exitCopy?.bytes ?? 0) / MiB} MiB, made 1 MiB`);
  });

  it('measures the copy of an exit announced by its own line', async () => {
    const r = await scripted({ lineAt: 3000, copy: 6 * MiB });
    assert.equal(r.exitCopy?.count, 1);
    assert.ok(Math.abs((r.exitCopy?.bytes ?? 0) - 6 * MiB) < 0.5 * MiB, `copy ${(r.exitCopy?.bytes ?? 0) / MiB} MiB`);
  });
});
