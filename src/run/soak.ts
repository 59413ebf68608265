import { type Clock, realClock } from '../clock.js';
import { analyzeGrowth, findReplacements } from '../results/lifetime.js';
import { soakWorkers } from '../results/refork.js';
import type { ExitCopy, Role, Route, SoakRecord, SoakSettings, Timeline, WarmupSettings } from '../results/types.js';
import { RouteMix, routeSettings, watchPeaks } from './routes.js';
import { BudgetedSampler } from './sampler.js';
import type { LoadGenerator } from './seams.js';
import type { TreeSample } from './tree-sample.js';

/** Columns of samples: one entry per pid ever seen (a recycled worker is a new entry), null where absent. */
export class TimelineBuilder {
  readonly timeline: Timeline = { tMs: [], requests: [], processes: [] };
  private readonly index = new Map<number, number>();

  add(tMs: number, requests: number, sample: TreeSample, served?: ReadonlyMap<number, number>): void {
    const n = this.timeline.tMs.length;
    this.timeline.tMs.push(Math.round(tMs));
    this.timeline.requests.push(requests);
    for (const p of this.timeline.processes) {
      for (const k of ['pssBytes', 'ussBytes', 'rssBytes', 'sharedBytes'] as const) p[k].push(null);
      p.served?.push(null);
    }
    const roles = new Map(sample.processes.map((p) => [p.pid, p.role]));
    for (const p of sample.snapshot.processes) {
      let i = this.index.get(p.pid);
      if (i === undefined) {
        i = this.timeline.processes.length;
        this.index.set(p.pid, i);
        const empty = () => Array<number | null>(n + 1).fill(null);
        this.timeline.processes.push({
          pid: p.pid,
          role: (roles.get(p.pid) ?? 'other') as Role,
          pssBytes: empty(),
          ussBytes: empty(),
          rssBytes: empty(),
          sharedBytes: empty(),
          ppid: p.ppid,
        });
      }
      const e = this.timeline.processes[i];
      if (!e) continue;
      e.pssBytes[n] = p.pssBytes;
      e.ussBytes[n] = p.ussBytes;
      e.rssBytes[n] = p.rssBytes;
      e.sharedBytes[n] = (p.fields.Shared_Clean ?? 0) + (p.fields.Shared_Dirty ?? 0);
      if (served && e.role === 'worker') {
        e.served ??= Array<number | null>(n + 1).fill(null);
        e.served[n] = served.get(p.pid) ?? 0;
      }
    }
    // A worker that served and left between two samples was never sampled: it still counts (a replacement).
    for (const [pid, count] of served ?? []) {
      if (this.index.has(pid)) continue;
      this.index.set(pid, this.timeline.processes.length);
      const empty = () => Array<number | null>(n + 1).fill(null);
      const served = empty();
      served[n] = count;
      this.timeline.processes.push({
        pid,
        role: 'worker',
        pssBytes: empty(),
        ussBytes: empty(),
        rssBytes: empty(),
        sharedBytes: empty(),
        served,
      });
    }
  }
}

export interface SoakContext {
  port: number;
  path: string;
  settings: SoakSettings;
  load: LoadGenerator;
  /** The warm-up's settings, for what its protocol needs beyond a path (a script, a socket). */
  warmup?: WarmupSettings;
  sample: () => TreeSample;
  /** Checked after every sample: throws when the server died. */
  alive: () => void;
  onTick?: (state: { elapsedMs: number; requests: number; totalPssBytes: number; peakPssBytes: number }) => void;
  signal?: AbortSignal;
  clock?: Clock;
  /** The app's worker-pid header: requests are counted per worker (growth per request, replacements). */
  workerPidHeader?: string;
  /** Workers the tree should have (a replacement is over when it has them again). */
  expectedWorkers?: number;
  /** How many times the server's log has said it recycled a worker so far (the family's `log.recycled` line). */
  recycledSoFar?: () => number;
  /** Calls back as soon as the server's log says it recycles a worker; returns the unsubscribe. */
  onRecycleLine?: (listener: (pid?: number) => void) => () => void;
  /** A worker's USS now, undefined once it is gone: all the exit watch reads. */
  ussOf?: (pid: number) => number | undefined;
  /** The anonymous memory a live worker still shares with its master (what its exit will copy). */
  sharedAnonOf?: (pid: number) => number | undefined;
  /** A worker's resident anonymous memory now: the routes' close reads (a cheap read, every few ms). */
  anonOf?: (pid: number) => number | undefined;
  /** Several routes: sent one at a time, in turn (run/routes.ts), each one's growth and peak told apart. */
  routes?: readonly Route[];
}

/** The exit watch reads the workers' USS this often at most (the exit of a worker lasts ~50 ms here, ~3 s preloaded). */
const EXIT_WATCH_MS = 5;
const EXIT_WATCH_BOUND_MS = 5000;

/**
 * Keeps load on the server for the duration (lanes of one request per connection, each held to its share of
 * the rate if one is given; loopback only, bounded in time) while a budgeted sampler records the tree.
 */
export async function soak(ctx: SoakContext): Promise<SoakRecord> {
  const clock = ctx.clock ?? realClock;
  const s = ctx.settings;
  const url = `http://127.0.0.1:${ctx.port}`;
  const durationMs = s.durationSeconds * 1000;
  const started = clock.now();
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let sent = 0;
  let done = false;
  // The warm-up's settings (what its protocol needs: a script, a socket), the soak's connections and path.
  const warm: WarmupSettings = {
    ...(ctx.warmup ?? {}),
    requests: s.connections,
    connections: s.connections,
    path: ctx.path,
    ...(ctx.workerPidHeader ? { workerPidHeader: ctx.workerPidHeader } : {}),
  } as WarmupSettings;
  const served = new Map<number, number>();
  const recycledAtStart = ctx.recycledSoFar?.() ?? 0;
  const onResponse = (status: number, pid: string | undefined) => {
    statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1;
    const n = Number(pid);
    if (pid && Number.isInteger(n)) served.set(n, (served.get(n) ?? 0) + 1);
  };
  // Lanes, as hey -c N -q R holds a rate: each lane one request at a time, on a connection of its own that
  // says it closes (a server never holds a kept-alive connection of the soak's). With a rate, lane i sends
  // its k-th request (k·lanes + i)/rate seconds from the start, or at once when it is behind: never a burst,
  // never two in flight on one lane. Without, each lane sends its next as soon as its last is answered.
  // A command's run is a unit of work the command sizes: one lane.
  const laneCount = ctx.load.serial ? 1 : s.connections;
  const mix = ctx.routes && ctx.routes.length > 1 ? new RouteMix(ctx.routes, durationMs, ctx.anonOf) : undefined;
  const lane = async (i: number) => {
    for (let k = 0; !done && clock.now() - started < durationMs; k++) {
      ctx.signal?.throwIfAborted();
      if (mix) await mix.ready();
      if (s.rate !== undefined) {
        const due = started + ((k * laneCount + i) / s.rate) * 1000;
        while (!done && clock.now() < due && clock.now() - started < durationMs) {
          await clock.sleep(Math.min(50, due - clock.now(), durationMs - (clock.now() - started)), ctx.signal);
        }
        if (done || clock.now() - started >= durationMs) break;
      }
      if (mix) mix.inFlight++;
      const b = await ctx.load
        .flow(
          url,
          mix ? routeSettings(warm, mix.routes[mix.current] as Route) : warm,
          1,
          (status, pid) => {
            requests++;
            mix?.answered();
            onResponse(status, pid);
          },
          ctx.signal,
        )
        .finally(() => {
          if (mix) mix.inFlight--;
        });
      errors += b.errors + b.timeouts;
      sent += b.sent;
    }
  };
  const sampler = new BudgetedSampler(ctx.sample, { intervalMs: s.intervalMs, maxCpu: s.maxCpuPercent / 100 }, clock);
  // The routes' first stretch starts before any request is in flight, the last ends after every one is answered.
  if (mix) mix.begin(0, sampler.sample(), served);
  const loadLoop = Promise.all(Array.from({ length: laneCount }, (_, i) => lane(i)));
  const timeline = new TimelineBuilder();
  // The exit watch: when the server says it recycles a worker, every worker's USS is read closely until
  // one is gone, its largest reading the peak of its exit (finalization copies what it shared with the master).
  const lastUss = new Map<number, number>();
  let lastUssAt = 0;
  const exitPeaks: Record<string, number> = {};
  const exitCopies: number[] = [];
  // Each recycling line heard: when, and the regular sample then (the workers' USS before any exit began).
  const lines: { t: number; pid?: number; uss: ReadonlyMap<number, number>; sampledAt: number; growth: ReadonlyMap<number, number> }[] = [];
  // Each worker's USS growth per millisecond between the last two regular samples (0 when it shrank).
  const growth = new Map<number, number>();
  // A regular sample counts as "before the exit" only if it was taken shortly before the line.
  const freshMs = Math.max(2 * s.intervalMs, 100);
  /** A worker gone during a watch: its peak, and its copy from its USS when the line that announced it was heard. */
  const settleExit = (pid: number, reads: readonly (readonly [number, number])[], goneAt: number) => {
    if (reads.length === 0) return;
    const top = Math.max(...reads.map(([, v]) => v));
    exitPeaks[String(pid)] = top;
    // Its own line where the server's lines name the worker; else the last line heard before it went. A watch can
    // outlast a worker's whole life (lines pile up, or its bound), so its first read may be long before this
    // worker's exit began. A line heard only after its worker was gone (memcompare's event loop busy with fast load)
    // leaves that exit's start unknown: another worker's earlier line set against it counted the worker's whole life
    // of growth under load as its exit's copy (10 KiB a request: 6.5-10 MB where the copy was under 0.3). Not counted.
    const own = lines.filter((l) => l.pid === pid && l.t <= goneAt).at(-1);
    const named = lines.some((l) => l.pid !== undefined);
    if (named && !own) return;
    const line = own ?? lines.filter((l) => l.t <= goneAt).at(-1);
    const atLine = line ? reads.filter(([t]) => t <= line.t).at(-1) : undefined;
    const candidates = [(atLine ?? reads[0])?.[1] ?? top];
    const sampled = line?.uss.get(pid);
    // Heard late, the first read is already part way up: the regular sample just before is lower. A worker
    // that grows as it serves (a leak under fast load) grew between that sample and its line: carried forward
    // at the rate it grew between the last two samples, or that growth would be counted as its exit's copy. A
    // worker sampled once has no rate: its sample is left out (a leak served at 4,000 requests/s grew 10 MB
    // in the 250 ms between it and the line, read as the copy of an exit that copied nothing).
    const rate = line?.growth.get(pid);
    if (line && sampled !== undefined && rate !== undefined && line.t - line.sampledAt <= freshMs)
      candidates.push(sampled + rate * (line.t - line.sampledAt));
    exitCopies.push(Math.max(0, top - Math.min(...candidates)));
  };
  let watching: Promise<void> | undefined;
  let pending = 0;
  const watchExit = async () => {
    const pids = new Set(lastUss.keys());
    const reads = new Map<number, [number, number][]>();
    let gone = 0;
    const until = clock.now() + EXIT_WATCH_BOUND_MS;
    while (gone < pending && pids.size > 0 && clock.now() < until) {
      let cost = 0;
      const t = clock.now();
      for (const pid of [...pids]) {
        const read = sampler.extra(() => ctx.ussOf?.(pid));
        cost += read.costMs;
        if (read.value === undefined) {
          pids.delete(pid);
          gone++;
          settleExit(pid, reads.get(pid) ?? [], t);
          continue;
        }
        const series = reads.get(pid) ?? [];
        series.push([t, read.value]);
        reads.set(pid, series);
      }
      // Within the sampler's budget: a read costing c waits c / budget before the next.
      await clock.sleep(Math.max(EXIT_WATCH_MS, cost / (s.maxCpuPercent / 100) - cost), ctx.signal);
    }
    pending = Math.max(0, pending - Math.max(1, gone));
  };
  let watchStartedAt = 0;
  let listening = true;
  const startWatch = () => {
    if (watching) return;
    watchStartedAt = clock.now();
    watching = watchExit()
      .catch(() => {})
      .finally(() => {
        watching = undefined;
        // A line heard while a watch ran out its bound (after a line no exit followed) gets its own watch.
        if (listening && pending > 0 && (lines.at(-1)?.t ?? -1) > watchStartedAt) startWatch();
      });
  };
  const unsubscribe =
    ctx.ussOf && ctx.onRecycleLine
      ? ctx.onRecycleLine((pid) => {
          pending++;
          lines.push({
            t: clock.now(),
            ...(pid !== undefined ? { pid } : {}),
            uss: new Map(lastUss),
            sampledAt: lastUssAt,
            growth: new Map(growth),
          });
          startWatch();
        })
      : undefined;
  let peak = 0;
  // Every worker pid seen: those gone since are the departures the server's recycling lines announce.
  const everSeen = new Set<number>();
  const workersOf = (sample: TreeSample) => sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
  const peaks =
    mix && ctx.anonOf
      ? watchPeaks(mix, {
          clock,
          started,
          anonOf: ctx.anonOf,
          extra: (read) => sampler.extra(read),
          // Half the budget: the regular samples have the other (every 250 ms by default, a few ms each).
          maxCpu: s.maxCpuPercent / 100 / 2,
          done: () => done,
          signal: ctx.signal,
        }).catch(() => ({ everyMs: 0 }))
      : undefined;
  let sampled = false;
  try {
    while (true) {
      const sample = sampler.sample();
      sampled = true;
      ctx.alive();
      for (const pid of workersOf(sample)) everSeen.add(pid);
      const now = clock.now();
      growth.clear();
      for (const p of sample.processes) {
        const before = lastUss.get(p.pid);
        if (p.role === 'worker' && before !== undefined && now > lastUssAt)
          growth.set(p.pid, Math.max(0, (p.ussBytes - before) / (now - lastUssAt)));
      }
      lastUss.clear();
      lastUssAt = now;
      for (const p of sample.processes) if (p.role === 'worker') lastUss.set(p.pid, p.ussBytes);
      const elapsed = clock.now() - started;
      const total = sample.snapshot.totals.pssBytes;
      peak = Math.max(peak, total);
      timeline.add(elapsed, requests, sample, ctx.workerPidHeader ? served : undefined);
      ctx.onTick?.({ elapsedMs: elapsed, requests, totalPssBytes: total, peakPssBytes: peak });
      if (elapsed >= durationMs) break;
      if (mix?.due(elapsed))
        await mix.turn(
          clock,
          () => clock.now() - started,
          () => sampler.sample(),
          served,
        );
      await clock.sleep(Math.min(sampler.nextDelayMs(), Math.max(0, durationMs - elapsed)), ctx.signal);
    }
  } finally {
    done = true;
    await loadLoop.catch(() => {});
  }
  await loadLoop;
  if (mix && sampled) mix.finish(clock.now() - started, sampler.sample(), served);
  const peakReads = await peaks;
  // A worker that served its last request as the load stopped (a max-requests restart) leaves a moment
  // later: follow the tree until its worker set holds for three samples with the full count and every
  // worker the server's log said it recycled during the soak has left (at most 3 s).
  if (ctx.expectedWorkers !== undefined && ctx.expectedWorkers > 0) {
    const until = clock.now() + 3000;
    let last = '';
    let still = 0;
    let departed = 0;
    const announced = () => (ctx.recycledSoFar?.() ?? recycledAtStart) - recycledAtStart;
    while ((still < 3 || departed < announced()) && clock.now() < until) {
      await clock.sleep(Math.min(100, sampler.nextDelayMs()), ctx.signal);
      const sample = sampler.sample();
      ctx.alive();
      timeline.add(clock.now() - started, requests, sample, ctx.workerPidHeader ? served : undefined);
      const workers = workersOf(sample);
      for (const pid of workers) everSeen.add(pid);
      departed = everSeen.size - workers.length;
      const set = workers.sort((a, b) => a - b).join(',');
      still = set === last && sample.workers >= ctx.expectedWorkers ? still + 1 : 0;
      last = set;
    }
  }
  listening = false;
  unsubscribe?.();
  await watching;
  const stats = sampler.stats();
  const elapsed = clock.now() - started;
  const exitCopy = exitCopyOf(exitCopies, ctx.sharedAnonOf ? [...lastUss.keys()].map((pid) => ctx.sharedAnonOf?.(pid)) : []);
  return {
    durationMs: elapsed,
    requests,
    sent,
    ...(ctx.load.serial ? {} : { client: 'lanes' as const }),
    errors,
    statusCodes,
    requestsPerSecond: elapsed > 0 ? (requests * 1000) / elapsed : 0,
    rate: s.rate ?? null,
    peakTotalPssBytes: peak,
    samples: stats.samples,
    intervalMs: s.intervalMs,
    achievedIntervalMs: stats.achievedIntervalMs,
    samplerCpuMsPerSample: stats.cpuMsPerSample,
    samplerCpuPercent: stats.cpuPercent,
    maxCpuPercent: s.maxCpuPercent,
    workers: soakWorkers(timeline.timeline),
    timeline: timeline.timeline,
    ...(served.size > 0 ? { growth: analyzeGrowth(timeline.timeline) } : {}),
    replacements: findReplacements(
      timeline.timeline,
      ctx.expectedWorkers ?? 0,
      (ctx.recycledSoFar?.() ?? recycledAtStart) - recycledAtStart,
      exitPeaks,
    ),
    ...(Object.keys(exitPeaks).length > 0 ? { exitPeakUssBytes: exitPeaks } : {}),
    ...(exitCopy ? { exitCopy } : {}),
    ...(mix ? { routes: { byRoute: mix.growth(), peakReadEveryMs: peakReads?.everyMs ?? 0, peakUssBytes: mix.peakUss() } } : {}),
  };
}

/** Measured at the exits watched (the largest copy), else predicted from the live workers' shared anonymous memory (the largest). */
export function exitCopyOf(measured: readonly number[], sharedAnon: readonly (number | undefined)[]): ExitCopy | undefined {
  if (measured.length > 0) return { bytes: Math.max(...measured), source: 'measured', count: measured.length };
  const read = sharedAnon.filter((b): b is number => b !== undefined);
  return read.length > 0 ? { bytes: Math.max(...read), source: 'predicted', count: read.length } : undefined;
}
