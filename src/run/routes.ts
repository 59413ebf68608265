import type { Clock } from '../clock.js';
import { studentTQuantile } from '../results/student.js';
import type { Route, RouteGrowth, WarmupSettings } from '../results/types.js';
import type { TreeSample } from './tree-sample.js';

/** A route's request in the warm-up's settings: its path, and its method, body and headers when it has them. */
export function routeSettings(base: WarmupSettings, route: Route): WarmupSettings {
  const out = { ...base, path: route.path } as WarmupSettings & { method?: string; body?: string; headers?: Record<string, string> };
  delete out.method;
  delete out.body;
  delete out.headers;
  if (route.method) out.method = route.method;
  if (route.body !== undefined) out.body = route.body;
  if (route.headers) out.headers = route.headers;
  return out;
}

/** `amount` requests split over the routes by weight (each route at least one), in the routes' order. */
export function splitByWeight(routes: readonly Route[], amount: number): number[] {
  const total = routes.reduce((a, r) => a + r.weight, 0);
  return routes.map((r) => Math.max(1, Math.round((amount * r.weight) / total)));
}

/** One worker at one end of a stretch: when, its USS, its resident anonymous memory (the peaks' unit) and the requests it had served. */
interface End {
  t: number;
  uss: number;
  anon: number;
  served: number;
}

/** A stretch of the soak in which one route alone was sent. */
export interface Stretch {
  route: number;
  start: Map<number, End>;
  end?: Map<number, End>;
  /** Each worker's close reads during it: [ms, resident anonymous memory]. */
  reads: Map<number, [number, number][]>;
  requests: number;
}

/** Stretches long enough for a worker to serve many requests of a route, and at least this many turns of every route. */
const MIN_TURNS = 3;
const MIN_STRETCH_MS = 800;

/**
 * The soak over several routes (issue: which route keeps memory). A uniform mix in every interval cannot be
 * told apart, so the routes are sent one at a time, in turn, each turn repeated (A B C A B C …), a stretch of
 * each as long as its weight asks. Between two stretches the load pauses until every request in flight is
 * answered, and the workers are read then: each stretch's USS change is that route's alone. While a stretch
 * runs, the workers' USS is read closely (every few milliseconds, within the sampler's budget) for the peak a
 * request that builds a large body and frees it reaches. The fit: per route, each worker's USS change in a
 * stretch against the requests it served in it, least squares through the origin.
 */
export class RouteMix {
  readonly routes: readonly Route[];
  private readonly stretchMs: number[];
  private readonly stretches: Stretch[] = [];
  private switchAt: number;
  private paused = false;
  private waiters: (() => void)[] = [];
  inFlight = 0;

  /** `anonOf`: a worker's resident anonymous memory now (the close reads' unit; its USS when not given). */
  constructor(
    routes: readonly Route[],
    durationMs: number,
    private readonly anonOf?: (pid: number) => number | undefined,
  ) {
    this.routes = routes;
    const total = routes.reduce((a, r) => a + r.weight, 0);
    const turns = Math.max(MIN_TURNS, Math.floor(durationMs / (MIN_STRETCH_MS * routes.length)));
    // 90% of the soak: the pauses between stretches take time too, and every route must have all its turns.
    this.stretchMs = routes.map((r) => (0.9 * durationMs * r.weight) / (turns * total));
    this.switchAt = this.stretchMs[0] ?? durationMs;
  }

  /** The route being sent now. */
  get current(): number {
    return this.stretches.at(-1)?.route ?? 0;
  }

  /** A lane's wait before each request: while the routes change, none is sent. */
  async ready(): Promise<void> {
    while (this.paused) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The first stretch begins with the soak's first sample. */
  begin(t: number, sample: TreeSample, served: ReadonlyMap<number, number>): void {
    this.stretches.push({ route: 0, start: ends(t, sample, served, this.anonOf), reads: new Map(), requests: 0 });
  }

  /** One answer, counted in the stretch it was sent in. */
  answered(): void {
    const s = this.stretches.at(-1);
    if (s) s.requests++;
  }

  /** A close read of one worker's USS during the current stretch (none while the routes change). */
  read(t: number, pid: number, uss: number): void {
    const s = this.stretches.at(-1);
    if (!s || this.paused) return;
    const series = s.reads.get(pid) ?? [];
    series.push([t, uss]);
    s.reads.set(pid, series);
  }

  /** The workers of the current stretch (the close reads follow them). */
  workers(): number[] {
    return [...(this.stretches.at(-1)?.start.keys() ?? [])];
  }

  /** True once the current stretch has run its length. */
  due(elapsedMs: number): boolean {
    return elapsedMs >= this.switchAt;
  }

  /**
   * The turn to the next route: the lanes pause, the requests in flight are answered (bounded), the workers
   * are read (the end of one stretch, the start of the next), and the lanes go on with the next route.
   */
  async turn(clock: Clock, elapsedMs: () => number, sample: () => TreeSample, served: ReadonlyMap<number, number>): Promise<void> {
    this.paused = true;
    const until = clock.now() + 2000;
    while (this.inFlight > 0 && clock.now() < until) await clock.sleep(2);
    const at = ends(elapsedMs(), sample(), served, this.anonOf);
    const last = this.stretches.at(-1);
    if (last) last.end = at;
    const next = ((last?.route ?? 0) + 1) % this.routes.length;
    this.stretches.push({ route: next, start: at, reads: new Map(), requests: 0 });
    this.switchAt = elapsedMs() + (this.stretchMs[next] ?? 0);
    this.paused = false;
    for (const w of this.waiters.splice(0)) w();
  }

  /** The last stretch ends with the soak's last read. */
  finish(t: number, sample: TreeSample, served: ReadonlyMap<number, number>): void {
    const last = this.stretches.at(-1);
    if (last && !last.end) last.end = ends(t, sample, served, this.anonOf);
    this.paused = false;
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Each worker's highest USS during the routes' stretches, read closely: its USS on the line between the
   * stretch's ends, plus how far its close read stood above its resident anonymous memory's line then.
   */
  peakUss(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.stretches) {
      for (const [pid, a] of s.start) {
        const b = s.end?.get(pid);
        if (!b) continue;
        for (const [t, anon] of s.reads.get(pid) ?? []) {
          const f = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
          const uss = a.uss + (b.uss - a.uss) * f + Math.max(0, anon - (a.anon + (b.anon - a.anon) * f));
          out[String(pid)] = Math.max(out[String(pid)] ?? 0, uss);
        }
      }
    }
    return out;
  }

  /** Each route's growth per request and transient peak, from the stretches that ended. */
  growth(): RouteGrowth[] {
    return this.routes.map((route, i) =>
      routeFit(
        route,
        this.stretches.filter((s) => s.route === i && s.end),
      ),
    );
  }
}

function ends(
  t: number,
  sample: TreeSample,
  served: ReadonlyMap<number, number>,
  anonOf?: (pid: number) => number | undefined,
): Map<number, End> {
  const out = new Map<number, End>();
  for (const p of sample.processes)
    if (p.role === 'worker') out.set(p.pid, { t, uss: p.ussBytes, anon: anonOf?.(p.pid) ?? p.ussBytes, served: served.get(p.pid) ?? 0 });
  return out;
}

/** Least squares through the origin of (requests served, USS change) over every worker of every stretch of one route. */
export function routeFit(route: Route, stretches: readonly Stretch[]): RouteGrowth {
  const points: [number, number][] = [];
  let peak = 0;
  let peakPid: number | null = null;
  for (const s of stretches) {
    for (const [pid, a] of s.start) {
      const b = s.end?.get(pid);
      if (!b) continue; // a worker replaced during the stretch
      const n = b.served - a.served;
      if (n > 0) points.push([n, b.uss - a.uss]);
      // Above the worker's level at that moment: the line from its USS at the stretch's start to its end (what
      // the route keeps is growth, not a peak).
      for (const [t, uss] of s.reads.get(pid) ?? []) {
        const level = b.t > a.t ? a.anon + ((b.anon - a.anon) * (t - a.t)) / (b.t - a.t) : a.anon;
        if (uss - level > peak) {
          peak = uss - level;
          peakPid = pid;
        }
      }
    }
  }
  const sxx = points.reduce((acc, [x]) => acc + x * x, 0);
  const sxy = points.reduce((acc, [x, y]) => acc + x * y, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const ssRes = points.reduce((acc, [x, y]) => acc + (y - slope * x) ** 2, 0);
  const ssTot = points.reduce((acc, [, y]) => acc + y * y, 0);
  const df = points.length - 1;
  const se = df > 0 && sxx > 0 ? Math.sqrt(ssRes / df / sxx) : Number.POSITIVE_INFINITY;
  const half = Number.isFinite(se) ? studentTQuantile(0.025, df) * se : Number.POSITIVE_INFINITY;
  return {
    path: route.path,
    method: route.method ?? 'GET',
    weight: route.weight,
    segments: stretches.length,
    requests: stretches.reduce((a, s) => a + s.requests, 0),
    bytesPerRequest: slope,
    // Through the origin, R² is against zero (no intercept): a route that keeps nothing has R² near 0.
    r2: ssTot > 0 ? Math.max(0, 1 - ssRes / ssTot) : 0,
    interval: [slope - half, slope + half],
    transientPeakBytes: Math.max(0, peak),
    transientPeakPid: peakPid,
  };
}

/** The close reads of the workers' USS while the routes run: every few milliseconds, within the sampler's budget. */
export async function watchPeaks(
  mix: RouteMix,
  o: {
    clock: Clock;
    started: number;
    anonOf: (pid: number) => number | undefined;
    extra: (read: () => number | undefined) => { value: number | undefined; costMs: number };
    maxCpu: number;
    done: () => boolean;
    signal?: AbortSignal | undefined;
  },
): Promise<{ everyMs: number }> {
  let rounds = 0;
  const first = o.clock.now();
  while (!o.done()) {
    let cost = 0;
    for (const pid of mix.workers()) {
      const read = o.extra(() => o.anonOf(pid));
      cost += read.costMs;
      if (read.value !== undefined) mix.read(o.clock.now() - o.started, pid, read.value);
    }
    rounds++;
    // A read costing c waits c / budget before the next: the budget holds with the regular samples beside.
    await o.clock.sleep(Math.max(PEAK_READ_MS, cost / o.maxCpu - cost), o.signal);
  }
  return { everyMs: rounds > 0 ? (o.clock.now() - first) / rounds : 0 };
}

/** The closest the peaks are read (a request that builds a large body lasts tens of milliseconds). */
const PEAK_READ_MS = 5;
