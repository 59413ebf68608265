import { centeredSums, linearFit } from './fit.js';
import type {
  ExitCopy,
  GrowthRecord,
  GrowthVerdict,
  LifetimeAdvice,
  ReplacementRecord,
  RouteGrowth,
  Timeline,
  WarmupResult,
  WorkerGrowth,
} from './types.js';

/** Fewer requests per worker than this and growth is not fitted: the soak was too short to tell. */
export const MIN_REQUESTS_PER_WORKER = 200;
/** Below this many bytes per request a worker does not grow (allocator noise, a few cached objects). */
export const GROWTH_BYTES_PER_REQUEST = 64;

type Entry = Timeline['processes'][number];

const present = (e: Entry) => e.ussBytes.map((u, i) => (u === null ? -1 : i)).filter((i) => i >= 0);

/** The points (requests served, USS) of a worker: samples where both are known. */
function points(e: Entry, metric: 'ussBytes' | 'rssBytes' = 'ussBytes'): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  e[metric].forEach((u, i) => {
    const s = e.served?.[i];
    if (u !== null && s !== null && s !== undefined) {
      x.push(s);
      y.push(u);
    }
  });
  return { x, y };
}

/** Fits USS against requests served, per worker and pooled; says whether memory grows, plateaus or holds. */
export function analyzeGrowth(t: Timeline): GrowthRecord {
  const workers: WorkerGrowth[] = [];
  let sse = 0;
  for (const e of t.processes.filter((p) => p.role === 'worker')) {
    const { x, y } = points(e);
    if (x.length < 3) continue;
    const fit = linearFit(x, y);
    const mid = x.length >> 1;
    const first = linearFit(x.slice(0, mid + 1), y.slice(0, mid + 1));
    const second = linearFit(x.slice(mid), y.slice(mid));
    const plateau = first.slope > GROWTH_BYTES_PER_REQUEST && second.slope < first.slope / 10;
    workers.push({
      pid: e.pid,
      requests: (x.at(-1) ?? 0) - (x[0] ?? 0),
      ussFirstBytes: y[0] as number,
      ussLastBytes: y.at(-1) as number,
      bytesPerRequest: fit.slope,
      r2: fit.r2,
      plateau,
    });
  }
  const { sxx, sxy, syy } = pooledSums(t, 'ussBytes');
  const slope = sxx > 0 ? sxy / sxx : 0;
  // Residuals of the pooled slope, each worker about its own mean.
  for (const e of t.processes.filter((p) => p.role === 'worker')) {
    const { x, y } = points(e);
    if (x.length < 3) continue;
    const { mx, my } = centeredSums(x, y);
    for (let i = 0; i < x.length; i++) sse += ((y[i] as number) - my - slope * ((x[i] as number) - mx)) ** 2;
  }
  const r2 = syy > 0 ? 1 - sse / syy : 1;
  const requestsPerWorker = workers.length > 0 ? workers.reduce((a, w) => a + w.requests, 0) / workers.length : 0;
  let verdict: GrowthVerdict;
  if (workers.length === 0 || requestsPerWorker < MIN_REQUESTS_PER_WORKER) verdict = 'too-short';
  else if (workers.filter((w) => w.plateau).length > workers.length / 2) verdict = 'plateau';
  else if (slope > GROWTH_BYTES_PER_REQUEST) verdict = 'growth';
  else verdict = 'flat';
  return { verdict, bytesPerRequest: slope, r2, requestsPerWorker, workers };
}

/**
 * Workers that left the tree during the soak, each with the one that took its place: a worker absent
 * at the last sample (or one that served requests and was never sampled alive at the end), matched in
 * order with the workers that appeared after it. `recycled` says how many of them the server's log
 * called its own recycling (its log's recycling line); the rest died. `exitPeaks`: the largest USS of
 * each worker watched while it exited, by pid.
 */
export function findReplacements(
  t: Timeline,
  expectedWorkers: number,
  recycled: number,
  exitPeaks: Readonly<Record<string, number>> = {},
): ReplacementRecord[] {
  const last = t.tMs.length - 1;
  const workers = t.processes.filter((p) => p.role === 'worker');
  const firstSeen = (e: Entry) => present(e)[0] ?? e.served?.findIndex((s) => s !== null && s !== undefined && s > 0) ?? -1;
  const lastServed = (e: Entry) => {
    for (let i = (e.served?.length ?? 0) - 1; i >= 0; i--) if (e.served?.[i] !== null && e.served?.[i] !== undefined) return i;
    return -1;
  };
  const lastSeen = (e: Entry) => Math.max(present(e).at(-1) ?? -1, lastServed(e));
  const initial = new Set(workers.filter((e) => e.ussBytes[0] !== null).map((e) => e.pid));
  // Every worker not in the last sample has left (one that served between two samples and was never sampled included).
  const departed = workers.filter((e) => e.ussBytes[last] === null);
  const arrivals = workers.filter((e) => !initial.has(e.pid)).sort((a, b) => firstSeen(a) - firstSeen(b));
  const used = new Set<number>();
  const count = (i: number) => workers.filter((e) => e.ussBytes[i] !== null).length;
  return departed
    .filter((e) => lastSeen(e) >= 0)
    .sort((a, b) => lastSeen(a) - lastSeen(b))
    .map((old, k) => {
      const goneAt = Math.min(lastSeen(old) + 1, last);
      const next = arrivals.find((a) => !used.has(a.pid) && a.pid !== old.pid && firstSeen(a) >= lastSeen(old));
      if (next) used.add(next.pid);
      const births = next ? present(next) : [];
      const after = next ? next.ussBytes.findIndex((u, i) => u !== null && (next.served?.[i] ?? 0) >= 10) : -1;
      let whole: number | null = null;
      for (let i = goneAt; i <= last; i++) {
        if (count(i) >= expectedWorkers) {
          whole = (t.tMs[i] as number) - (t.tMs[lastSeen(old)] as number);
          break;
        }
      }
      const oldUss = present(old);
      return {
        tMs: t.tMs[goneAt] as number,
        oldPid: old.pid,
        newPid: next?.pid ?? null,
        oldRequests: old.served ? Math.max(0, ...old.served.filter((s): s is number => s !== null)) : 0,
        oldLastUssBytes: oldUss.length > 0 ? (old.ussBytes[oldUss.at(-1) as number] as number) : null,
        oldExitPeakUssBytes: exitPeaks[String(old.pid)] ?? null,
        newUssAtBirthBytes: births.length > 0 ? (next?.ussBytes[births[0] as number] ?? null) : null,
        newUssAfterBytes: after >= 0 ? (next?.ussBytes[after] ?? null) : null,
        wholeAgainMs: whole,
        cause: k < recycled ? 'recycled' : 'died',
      };
    });
}

/**
 * What the advice needs of a server family: its name and its recycling setting in its own words, or
 * why it has none (the family module says; this layer holds numbers and takes the words it is given).
 */
export interface RecyclingWords {
  name: string;
  recycling?: { text(requests: number): string };
  memoryRecycling?: {
    text(rssBytes: number, workers: number): string;
    warning?: string;
  };
  none: { recycling?: string };
}

/** Every worker's largest USS in a soak timeline, replacements included, and their exits where they were watched. */
export function workerPeakUss(t: Timeline, exitPeaks: Readonly<Record<string, number>> = {}): number[] {
  return t.processes
    .filter((p) => p.role === 'worker')
    .map((p) => Math.max(0, exitPeaks[String(p.pid)] ?? 0, ...p.ussBytes.filter((u): u is number => u !== null)))
    .filter((u) => u > 0);
}

/**
 * What each worker served before the soak began (its counts start at zero there): the first warm-up's
 * requests by pid where the header said, else an equal share, plus an equal share of the top-up and of
 * the steady rounds.
 */
export function servedBeforeSoak(w: WarmupResult, workers: number): (pid: number) => number {
  const n = Math.max(1, workers);
  const shared = ((w.topUp?.requests ?? 0) + (w.steady?.requests ?? 0)) / n;
  return (pid) => (w.requestsPerWorker ? (w.requestsPerWorker[String(pid)] ?? 0) : w.requests / n) + shared;
}

/**
 * A fresh worker's USS, for the advice: the largest USS not explained by growth per request
 * (USS − slope × every request the worker served, the warm-up's included), so that what a worker gains
 * once (copy-on-write erosion when its GC first runs, lazy imports) is counted; replacements' USS at
 * birth where there were some. Without the warm-up's requests, a worker that served 1,400 of them on a
 * 10 KiB-a-request app read 14 MiB "fresh" (seen: 18.2 MiB against 3.5 MiB at birth).
 */
export function freshWorkerUss(
  t: Timeline,
  slope: number,
  births: readonly number[],
  before: (pid: number) => number,
  metric: 'ussBytes' | 'rssBytes' = 'ussBytes',
): number {
  const unexplained = t.processes
    .filter((p) => p.role === 'worker')
    .flatMap((p) => {
      const { x, y } = points(p, metric);
      return y.map((u, i) => u - slope * ((x[i] as number) + before(p.pid)));
    });
  return Math.max(0, ...unexplained, ...births);
}

/** Pooled within-worker sums of a metric against requests served: each worker about its own means (workers start at different sizes). */
function pooledSums(t: Timeline, metric: 'ussBytes' | 'rssBytes'): { sxx: number; sxy: number; syy: number } {
  const sum = { sxx: 0, sxy: 0, syy: 0 };
  for (const e of t.processes.filter((p) => p.role === 'worker')) {
    const { x, y } = points(e, metric);
    if (x.length < 3) continue;
    const c = centeredSums(x, y);
    sum.sxx += c.sxx;
    sum.sxy += c.sxy;
    sum.syy += c.syy;
  }
  return sum;
}

/** RSS bytes per request, pooled over the workers as analyzeGrowth pools USS. */
export function rssBytesPerRequest(t: Timeline): number {
  const { sxx, sxy } = pooledSums(t, 'rssBytes');
  return sxx > 0 ? sxy / sxx : 0;
}

/** What an RSS threshold is set from: a fresh worker's RSS, RSS per request, the workers. */
export interface RssFigures {
  freshBytes: number;
  bytesPerRequest: number;
  workers: number;
}

/**
 * The memory-watching recycling setting (where the family has one), set where a worker's RSS will be
 * when its USS reaches the limit: fresh RSS + RSS per request × the requests the advice allows. Said
 * with what makes it unsafe: RSS counts shared pages and copy-on-write leaves it unchanged.
 */
function adviseMemoryRecycling(
  family: RecyclingWords,
  rss: RssFigures,
  freshUssBytes: number,
  ussBytesPerRequest: number,
  requests: number,
): NonNullable<LifetimeAdvice['memory']> | undefined {
  const m = family.memoryRecycling;
  if (!m) return undefined;
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const thresholdBytes = rss.freshBytes + rss.bytesPerRequest * requests;
  const caveat = `an RSS threshold counts the ${mib(Math.max(0, rss.freshBytes - freshUssBytes))} a fresh worker shares with the master, and copy-on-write turns shared pages private without changing RSS: set from this soak's growth (${rss.bytesPerRequest.toFixed(0)} bytes of RSS a request, ${ussBytesPerRequest.toFixed(0)} of USS), it recycles at the limit only while the app grows as it did here`;
  const setting = m.text(thresholdBytes, rss.workers);
  return {
    thresholdBytes,
    freshRssBytes: rss.freshBytes,
    rssBytesPerRequest: rss.bytesPerRequest,
    setting,
    text: `by RSS instead: ${setting}; ${caveat}${m.warning ? `; and ${m.warning}` : ''}`,
  };
}

/** The share of the limit the advice keeps free. */
export const HEADROOM = 0.1;

export function adviseRecycling(
  family: RecyclingWords,
  growth: GrowthRecord,
  freshUssBytes: number,
  limitBytes: number,
  soakSeconds: number,
  exitCopy: ExitCopy = { bytes: 0, source: 'predicted', count: 0 },
  rss?: RssFigures,
  routes?: readonly RouteGrowth[],
): LifetimeAdvice {
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  // Several routes: the worst transient peak must fit on top of what a worker has grown to (a request of that
  // route may come last), and the route that keeps the most a call drives the growth.
  const peak = routes?.reduce<RouteGrowth | undefined>((a, r) => (r.transientPeakBytes > (a?.transientPeakBytes ?? 0) ? r : a), undefined);
  const driver = routes?.reduce<RouteGrowth | undefined>(
    (a, r) => (r.bytesPerRequest * r.weight > (a ? a.bytesPerRequest * a.weight : 0) ? r : a),
    undefined,
  );
  const peakBytes = peak?.transientPeakBytes ?? 0;
  const routeWords = [
    driver && driver.bytesPerRequest >= 1024
      ? `driven by ${driver.path} (${(driver.bytesPerRequest / 1024).toFixed(1)} KiB kept a call)`
      : '',
    peak && peakBytes > exitCopy.bytes ? `room kept for ${peak.path}'s transient peak (+${mib(peakBytes)} while served)` : '',
  ]
    .filter(Boolean)
    .join('; ');
  const base = {
    limitBytes,
    freshUssBytes,
    bytesPerRequest: growth.bytesPerRequest,
    exitCopyBytes: exitCopy.bytes,
    exitCopySource: exitCopy.source,
    requests: null,
    setting: null,
  };
  const exitWords =
    exitCopy.bytes > 0
      ? `a worker copies ${mib(exitCopy.bytes)} when it exits (${exitCopy.source === 'measured' ? `measured at ${exitCopy.count} exit${exitCopy.count === 1 ? '' : 's'}` : 'predicted: the anonymous memory a worker still shares with the master'})`
      : '';
  if (freshUssBytes >= limitBytes) {
    return {
      ...base,
      text: `a fresh worker's USS is already ${mib(freshUssBytes)}, above the limit ${mib(limitBytes)}: no recycling setting can hold it; raise the limit or make the app lighter`,
    };
  }
  if (growth.verdict === 'too-short') {
    const longer = Math.ceil((soakSeconds * MIN_REQUESTS_PER_WORKER) / Math.max(1, growth.requestsPerWorker));
    return {
      ...base,
      text: `the soak gave ${growth.requestsPerWorker.toFixed(0)} requests per worker, too few to fit growth (${MIN_REQUESTS_PER_WORKER} needed): soak for ${longer} s or more`,
    };
  }
  if (growth.verdict !== 'growth') {
    return {
      ...base,
      text: `memory ${growth.verdict === 'plateau' ? 'stops growing (a cache that fills)' : 'does not grow with requests'}: no recycling is needed to stay under ${mib(limitBytes)}`,
    };
  }
  // A tenth of the limit held back: a worker gains some memory once, when its garbage collector first
  // copies the parent's pages (seen: 2-3 MB after ~3,000 requests), which a short soak may not have seen.
  // A worker's exit copies what it still shares with the master (its finalization writes those pages):
  // the limit must hold that too, at the end of the worker's life.
  const requests = Math.floor((limitBytes * (1 - HEADROOM) - freshUssBytes - Math.max(exitCopy.bytes, peakBytes)) / growth.bytesPerRequest);
  if (requests < 1) {
    return {
      ...base,
      text:
        exitCopy.bytes > 0 && freshUssBytes < limitBytes * (1 - HEADROOM)
          ? `a fresh worker's USS is ${mib(freshUssBytes)} and ${exitWords}: no recycling setting can hold the limit ${mib(limitBytes)} less ${(HEADROOM * 100).toFixed(0)}%; raise the limit, or end the worker without finalization (os._exit in the server's worker-exit hook)`
          : `a fresh worker's USS is ${mib(freshUssBytes)}, within ${(HEADROOM * 100).toFixed(0)}% of the limit ${mib(limitBytes)}: no recycling setting can hold it; raise the limit or make the app lighter`,
    };
  }
  const setting = family.recycling?.text(requests) ?? null;
  if (!setting) {
    return {
      ...base,
      requests,
      text: `each worker reaches the limit after ${requests} requests, and ${family.name} has no recycling setting: ${family.none.recycling ?? 'none is known'}`,
    };
  }
  const memory = rss ? adviseMemoryRecycling(family, rss, freshUssBytes, growth.bytesPerRequest, requests) : undefined;
  return {
    ...base,
    requests,
    setting,
    ...(memory ? { memory } : {}),
    text: `each worker grows ${growth.bytesPerRequest.toFixed(0)} bytes a request from ${mib(freshUssBytes)}${exitWords ? `, and ${exitWords}` : ''}${routeWords ? ` (${routeWords})` : ''}: it reaches ${mib(limitBytes * (1 - HEADROOM))} (the limit less ${(HEADROOM * 100).toFixed(0)}%) after ${requests} requests; set ${setting}`,
  };
}
