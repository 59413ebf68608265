import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adviseRecycling,
  analyzeGrowth,
  findReplacements,
  freshWorkerUss,
  servedBeforeSoak,
  workerPeakUss,
} from '../../../src/results/lifetime.js';
import type { Timeline, WarmupResult } from '../../../src/results/types.js';
import { exitCopyOf } from '../../../src/run/soak.js';
import { celery } from '../../../src/servers/celery.js';
import { gunicorn } from '../../../src/servers/gunicorn.js';
import { phpFpm } from '../../../src/servers/php-fpm.js';
import { puma } from '../../../src/servers/puma.js';
import { uwsgi } from '../../../src/servers/uwsgi.js';

const MiB = 1048576;

/** A timeline of workers: each a function from sample index to [served, USS] or null (absent). */
function timeline(n: number, workers: Record<number, (i: number) => [number, number] | null>, master = true): Timeline {
  const t: Timeline = { tMs: Array.from({ length: n }, (_, i) => i * 250), requests: Array(n).fill(0), processes: [] };
  if (master) {
    t.processes.push({
      pid: 1,
      role: 'master',
      pssBytes: Array(n).fill(1),
      ussBytes: Array(n).fill(1),
      rssBytes: Array(n).fill(1),
      sharedBytes: Array(n).fill(1),
    });
  }
  for (const [pid, f] of Object.entries(workers)) {
    const rows = Array.from({ length: n }, (_, i) => f(i));
    t.processes.push({
      pid: Number(pid),
      role: 'worker',
      pssBytes: rows.map((r) => (r ? r[1] : null)),
      ussBytes: rows.map((r) => (r ? r[1] : null)),
      rssBytes: rows.map((r) => (r ? r[1] : null)),
      sharedBytes: rows.map((r) => (r ? 0 : null)),
      served: rows.map((r) => (r ? r[0] : null)),
    });
  }
  return t;
}

describe('worker lifetime from a soak timeline', () => {
  it('a worker that keeps 10,317 bytes a request: that slope, R² 1, a growth verdict', () => {
    const t = timeline(40, {
      10: (i) => [i * 50, 8 * MiB + i * 50 * 10317],
      11: (i) => [i * 45, 9 * MiB + i * 45 * 10317],
    });
    const g = analyzeGrowth(t);
    assert.equal(g.verdict, 'growth');
    assert.ok(Math.abs(g.bytesPerRequest - 10317) < 1, String(g.bytesPerRequest));
    assert.ok(g.r2 > 0.9999);
    assert.equal(g.workers.length, 2);
    assert.ok(g.workers.every((w) => !w.plateau));
  });

  it('a cache that fills and stops: a plateau, no growth verdict, no advice to recycle', () => {
    const t = timeline(40, {
      10: (i) => [i * 50, 8 * MiB + Math.min(i * 50, 600) * 10240],
      11: (i) => [i * 50, 8 * MiB + Math.min(i * 50, 600) * 10240],
    });
    const g = analyzeGrowth(t);
    assert.equal(g.verdict, 'plateau');
    const advice = adviseRecycling(gunicorn, g, 8 * MiB, 100 * MiB, 15);
    assert.equal(advice.setting, null);
    assert.match(advice.text, /stops growing.*no recycling is needed/);
  });

  it('too few requests per worker: says how long to soak', () => {
    const g = analyzeGrowth(timeline(10, { 10: (i) => [i * 5, MiB + i * 5 * 10240] }));
    assert.equal(g.verdict, 'too-short');
    assert.match(adviseRecycling(gunicorn, g, MiB, 100 * MiB, 10).text, /too few to fit growth.*soak for 45 s or more/);
  });

  it("advice: the requests that fit under the limit, in the family's own setting; a limit below a fresh worker", () => {
    const g = analyzeGrowth(timeline(40, { 10: (i) => [i * 50, 8 * MiB + i * 50 * 10240] }));
    const a = adviseRecycling(gunicorn, g, 8 * MiB, 20 * MiB, 15);
    // 10% of the limit held back: (18 MiB − 8 MiB) ÷ 10,240 bytes.
    assert.equal(a.requests, Math.floor((20 * MiB * 0.9 - 8 * MiB) / 10240));
    assert.equal(a.setting, '--max-requests 922 --max-requests-jitter 102');
    assert.equal(adviseRecycling(phpFpm, g, 8 * MiB, 20 * MiB, 15).setting, 'pm.max_requests = 1024');
    assert.match(
      adviseRecycling(gunicorn, g, 19 * MiB, 20 * MiB, 15).text,
      /within 10% of the limit 20\.0 MiB: no recycling setting can hold it/,
    );
    const low = adviseRecycling(gunicorn, g, 30 * MiB, 20 * MiB, 15);
    assert.equal(low.setting, null);
    assert.match(low.text, /a fresh worker's USS is already 30\.0 MiB, above the limit 20\.0 MiB: no recycling setting can hold it/);
  });

  it('the exit copy: the advice keeps fresh + growth + what a worker copies when it exits under the limit, and says so', () => {
    const g = analyzeGrowth(timeline(40, { 10: (i) => [i * 50, 8 * MiB + i * 50 * 10240] }));
    const a = adviseRecycling(gunicorn, g, 8 * MiB, 20 * MiB, 15, { bytes: 3 * MiB, source: 'measured', count: 4 });
    assert.equal(a.requests, Math.floor((20 * MiB * 0.9 - 8 * MiB - 3 * MiB) / 10240));
    assert.equal(a.exitCopyBytes, 3 * MiB);
    assert.match(a.text, /a worker copies 3\.0 MiB when it exits \(measured at 4 exits\)/);
    // Room for the fresh worker but not for its exit: no setting, and what would help.
    const none = adviseRecycling(gunicorn, g, 8 * MiB, 20 * MiB, 15, { bytes: 11 * MiB, source: 'predicted', count: 2 });
    assert.equal(none.setting, null);
    assert.match(
      none.text,
      /copies 11\.0 MiB when it exits \(predicted: .*\): no recycling setting can hold the limit 20\.0 MiB less 10%; raise the limit, or end the worker without finalization/,
    );
  });

  it('the exit copy is measured where exits were watched, else predicted from the shared anonymous memory', () => {
    assert.deepEqual(exitCopyOf([2 * MiB, 5 * MiB], [9 * MiB]), { bytes: 5 * MiB, source: 'measured', count: 2 });
    assert.deepEqual(exitCopyOf([], [3 * MiB, undefined, 4 * MiB]), { bytes: 4 * MiB, source: 'predicted', count: 2 });
    assert.equal(exitCopyOf([], [undefined]), undefined);
  });

  it('every worker peak counts its exit where it was watched', () => {
    const t = timeline(3, { 10: (i) => [i * 10, 20 * MiB], 11: (i) => [i * 10, 21 * MiB] });
    assert.deepEqual(workerPeakUss(t, { '10': 27 * MiB }), [27 * MiB, 21 * MiB]);
  });

  it('replacements: each departed worker with the one that took its place, recycled or died', () => {
    // Worker 10 leaves after sample 9 (100 requests), 12 takes its place at 11; worker 11 leaves after 19, 13 at 20.
    const t = timeline(30, {
      10: (i) => (i <= 9 ? [i * 10, 20 * MiB] : null),
      11: (i) => (i <= 19 ? [i * 5, 21 * MiB] : null),
      12: (i) => (i >= 11 ? [(i - 11) * 10, 8 * MiB + (i - 11) * MiB] : null),
      13: (i) => (i >= 20 ? [(i - 20) * 10, 8 * MiB] : null),
    });
    const r = findReplacements(t, 2, 1);
    assert.deepEqual(
      r.map((x) => [x.oldPid, x.newPid, x.oldRequests, x.cause]),
      [
        [10, 12, 90, 'recycled'],
        [11, 13, 95, 'died'],
      ],
    );
    assert.equal(r[0]?.newUssAtBirthBytes, 8 * MiB);
    assert.equal(r[0]?.newUssAfterBytes, 9 * MiB);
    assert.equal(r[0]?.wholeAgainMs, 500);
    assert.equal(r[0]?.tMs, 2500);
  });

  it('a worker that served between two samples and was never sampled still counts', () => {
    const t = timeline(10, {
      10: (i) => (i <= 4 ? [i, 20 * MiB] : null),
      12: (i) => (i >= 6 ? [0, 8 * MiB] : null),
    });
    // pid 11 served 100 requests and left, seen only through the header at sample 5.
    t.processes.push({
      pid: 11,
      role: 'worker',
      pssBytes: Array(10).fill(null),
      ussBytes: Array(10).fill(null),
      rssBytes: Array(10).fill(null),
      sharedBytes: Array(10).fill(null),
      served: Array.from({ length: 10 }, (_, i) => (i === 5 ? 100 : null)),
    });
    assert.deepEqual(
      findReplacements(t, 1, 2).map((x) => [x.oldPid, x.newPid]),
      [
        [10, 11],
        [11, 12],
      ],
    );
  });
});

describe("a fresh worker's USS for the advice", () => {
  // Two workers born at 3.5 MiB, 10 KiB a request; each served 1,400 requests in the warm-up before the soak counted any.
  const grown = (i: number): [number, number] => [i * 20, 3.5 * MiB + (1400 + i * 20) * 10240];
  const t = timeline(20, { 11: grown, 12: grown });
  const warmup = { requests: 30, requestsPerWorker: { 11: 15, 12: 15 }, steady: { requests: 2770 } } as unknown as WarmupResult;

  it('counts the warm-up requests a worker served before the soak', () => {
    const before = servedBeforeSoak(warmup, 2);
    assert.equal(before(11), 15 + 2770 / 2);
    const fresh = freshWorkerUss(t, 10240, [], before);
    assert.ok(Math.abs(fresh - 3.5 * MiB) < 0.05 * MiB, `${fresh / MiB} MiB`);
  });

  it('without them, reads the warm-up growth as fresh (the mutation the first test guards against)', () => {
    const fresh = freshWorkerUss(t, 10240, [], () => 0);
    assert.ok(fresh > 16 * MiB, `${fresh / MiB} MiB`);
  });

  it('a replacement born heavier than the fit says wins', () => {
    assert.equal(freshWorkerUss(t, 10240, [5 * MiB], servedBeforeSoak(warmup, 2)), 5 * MiB);
  });
});

describe('the RSS-based settings', () => {
  // 10 KiB of USS a request, 9 KiB of it new pages (RSS), from 8 MiB USS / 30 MiB RSS (22 MiB shared with the master).
  const g = analyzeGrowth(timeline(40, { 10: (i) => [i * 50, 8 * MiB + i * 50 * 10240] }));
  const rss = { freshBytes: 30 * MiB, bytesPerRequest: 9216, workers: 4 };
  const requests = Math.floor((20 * MiB * 0.9 - 8 * MiB) / 10240);

  it("sets the threshold where a worker's RSS is when its USS reaches the limit, and says what RSS cannot see", () => {
    const a = adviseRecycling(uwsgi, g, 8 * MiB, 20 * MiB, 15, undefined, rss);
    assert.equal(a.requests, requests);
    const threshold = 30 * MiB + 9216 * requests;
    assert.equal(a.memory?.thresholdBytes, threshold);
    // uWSGI checks only workers older than --min-worker-lifetime (10 s by default): the advice sets it to 0.
    assert.equal(a.memory?.setting, `--reload-on-rss ${Math.floor(threshold / MiB)} --min-worker-lifetime 0`);
    assert.equal(a.setting, `--max-requests ${requests} --min-worker-lifetime 0`);
    assert.match(
      a.memory?.text ?? '',
      /counts the 22\.0 MiB a fresh worker shares with the master, and copy-on-write turns shared pages private without changing RSS/,
    );
    // A setting for the whole cluster counts master and workers.
    assert.match(adviseRecycling(puma, g, 8 * MiB, 20 * MiB, 15, undefined, rss).memory?.setting ?? '', /c\.ram = \d+/);
    // gunicorn has none: nothing is said of RSS.
    assert.equal(adviseRecycling(gunicorn, g, 8 * MiB, 20 * MiB, 15, undefined, rss).memory, undefined);
  });

  it('Celery: --max-memory-per-child in KiB, said to be compared after each task', () => {
    const a = adviseRecycling(celery, g, 8 * MiB, 20 * MiB, 15, undefined, rss);
    assert.equal(a.memory?.setting, `--max-memory-per-child ${Math.ceil((30 * MiB + 9216 * requests) / 1024)}`);
    assert.match(a.memory?.text ?? '', /compares, after each task/);
  });
});
