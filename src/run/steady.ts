import type { Clock } from '../clock.js';
import type { SteadyRecord } from '../results/types.js';

/**
 * When a warm-up is steady. Growth is judged per request, so that the size of a round does not decide it:
 * the workers' private memory (USS) may grow at most `bytesPerRequest` a request, or at most
 * `fractionPer400` of the tree's total PSS over 400 requests (the careful hand measurement's criterion:
 * total PSS moved less than 0.5% over the last 400 requests), whichever is larger.
 */
export const STEADY = {
  bytesPerRequest: 1024,
  fractionPer400: 0.005,
  maxRounds: 50,
  maxRequests: 100_000,
  maxMs: 120_000,
  /** Rounds double while the app is not steady, up to this many times the first. */
  maxRoundFactor: 32,
  /** Rounds past steady at most, when going on is cheaper than booting again (warmOnMs): 8 times the round it was steady at. */
  warmOnRounds: 3,
  /** The last rounds growing within this fraction of each other, per request: a line, not a warm-up. */
  linearRounds: 4,
  linearSpread: 0.15,
  /** Requests per worker before growth may be called a line (a real app warms for hundreds; a cache may fill for longer). */
  linearDepth: 1000,
  /**
   * Requests in flight during the rounds, at most (fewer when the scenario's connections are fewer): the careful
   * hand measurement's concurrency (`hey -c 20`). Every request beyond what the workers serve at once waits in
   * the server, and a server that buffers what it accepts keeps that memory: a Ruby app whose workers take
   * one request at a time read 76.3 / 77.3 / 78.0-78.9 MiB total PSS with 8 / 20 / 30 in flight (docs/method.md,
   * "How the requests arrive").
   */
  inFlight: 20,
} as const;

/** What a round sent. */
export interface SteadyRound {
  requests: number;
  /** Requests each worker served, where the pid header says so. */
  perWorker?: Record<string, number>;
}

/** A look at the workers: each one's USS, and the whole tree's PSS. */
export interface WorkersLook {
  ussByPid: Map<number, number>;
  totalPssBytes: number;
}

export interface SteadyDeps {
  clock: Clock;
  look(): WorkersLook;
  round(amount: number): Promise<SteadyRound>;
}

/** The largest growth per request allowed for a tree of this total PSS, bytes. */
export function steadyThreshold(totalPssBytes: number): number {
  return Math.max(STEADY.bytesPerRequest, (STEADY.fractionPer400 * totalPssBytes) / 400);
}

/**
 * Growth per request in one round, bytes: the workers' USS growth added up over the round's requests, and,
 * where the pid header counted them, each worker's growth over its own requests (the largest counts).
 */
export function growthPerRequest(before: WorkersLook, after: WorkersLook, round: SteadyRound): number {
  let total = 0;
  let worst = Number.NEGATIVE_INFINITY;
  for (const [pid, uss] of after.ussByPid) {
    const was = before.ussByPid.get(pid);
    if (was === undefined) continue;
    const grew = uss - was;
    total += grew;
    const served = round.perWorker?.[String(pid)];
    if (served !== undefined && served > 0) worst = Math.max(worst, grew / served);
  }
  const tree = round.requests > 0 ? total / round.requests : 0;
  return Math.max(tree, worst);
}

/**
 * Warms in rounds until the workers are steady (see STEADY), after a first round of `first.requests` has been
 * sent. Rounds start at the first round's size and double while the app still grows, so a slow-converging app
 * does not take many tiny rounds, and the last round is about half of all the requests so far: steady means
 * steady over the last half of the depth, a window that grows with it. Bounded in rounds, requests and time.
 * Workers that grow by the same amount per request round after round, past STEADY.linearDepth requests each,
 * grow per request (a leak or a cache the soak's fit measures): the rounds stop and say so.
 *
 * With `targetRequestsPerWorker` (another variant of the comparison needed that depth to be steady), the rounds
 * go on to exactly that depth, on the same ladder of doubling rounds, and stop there whether steady or not:
 * every variant is measured at the same depth, and `reached` says whether this one was steady at it.
 */
export async function warmUntilSteady(
  first: {
    requests: number;
    connections: number;
    workers: number;
    servedSoFar: number;
    targetRequestsPerWorker?: number;
    /** An earlier variant's first run reached this depth: once steady, go on to it (then this one is not run again). */
    minRequestsPerWorker?: number;
    /** Once steady, go on doubling while the rounds past steady take at most this long in all (see warmOnBudgetMs). */
    warmOnMs?: number;
  },
  deps: SteadyDeps,
): Promise<SteadyRecord> {
  const started = deps.clock.now();
  const workers = Math.max(1, first.workers);
  const target = first.targetRequestsPerWorker;
  const targetTotal = target === undefined ? undefined : Math.ceil(target * workers);
  const minTotal = first.minRequestsPerWorker === undefined ? undefined : Math.ceil(first.minRequestsPerWorker * workers);
  let before = deps.look();
  let rounds = 0;
  let requests = 0;
  let size = Math.max(first.requests, first.connections, 1);
  let last = Number.POSITIVE_INFINITY;
  let threshold = steadyThreshold(before.totalPssBytes);
  const rates: number[] = [];
  let reached = false;
  let linear = false;
  let bound: SteadyRecord['bound'];
  // Once steady: the depth it was first steady at, why it went on, and the time spent going on.
  let steadyAt: number | undefined;
  let warmedOn: SteadyRecord['warmedOn'];
  let warmOnSpentMs = 0;
  let warmOnRounds = 0;
  let cheapRound = false;
  let cap = Number.POSITIVE_INFINITY;
  for (;;) {
    const remaining = targetTotal === undefined ? Number.POSITIVE_INFINITY : targetTotal - first.servedSoFar - requests;
    if (remaining <= 0) break;
    if (rounds >= STEADY.maxRounds) bound = 'rounds';
    else if (requests >= STEADY.maxRequests) bound = 'requests';
    else if (deps.clock.now() - started >= STEADY.maxMs) bound = 'time';
    if (bound) break;
    // A round that would pass an earlier variant's depth stops at it: a first round topped up (a worker that had no
    // request yet) would otherwise carry this one past it, and the earlier variant would be booted again for a few requests.
    const toMin = minTotal === undefined ? 0 : minTotal - first.servedSoFar - requests;
    const amount = Math.min(size, STEADY.maxRequests - requests, remaining, cap, toMin > 0 ? toMin : Number.POSITIVE_INFINITY);
    const roundStarted = deps.clock.now();
    const r = await deps.round(amount);
    const roundMs = deps.clock.now() - roundStarted;
    if (cheapRound) {
      warmOnSpentMs += roundMs;
      warmOnRounds++;
    }
    cheapRound = false;
    cap = Number.POSITIVE_INFINITY;
    rounds++;
    requests += r.requests;
    const after = deps.look();
    last = growthPerRequest(before, after, r);
    threshold = steadyThreshold(after.totalPssBytes);
    before = after;
    rates.push(last);
    reached = last <= threshold;
    // A set depth is reached whatever the growth: the rounds above decide only when to stop.
    if (targetTotal !== undefined || r.requests === 0) {
      if (r.requests === 0) break;
      size = Math.min(size * 2, Math.max(first.requests, first.connections) * STEADY.maxRoundFactor);
      continue;
    }
    if (reached) {
      const served = first.servedSoFar + requests;
      steadyAt ??= served / workers;
      const next = Math.min(size * 2, Math.max(first.requests, first.connections) * STEADY.maxRoundFactor);
      if (minTotal !== undefined && served < minTotal) {
        // Steady, but shallower than an earlier variant: on to exactly its depth.
        warmedOn ??= 'to-an-earlier-variant';
        cap = minTotal - served;
        size = next;
        continue;
      }
      // Going on is cheaper than booting again: while the next round (about twice the last) fits the budget.
      const expectedMs = roundMs * (next / Math.max(1, amount));
      if (first.warmOnMs !== undefined && warmOnRounds < STEADY.warmOnRounds && warmOnSpentMs + expectedMs <= first.warmOnMs) {
        warmedOn ??= 'while-cheap';
        cheapRound = true;
        size = next;
        continue;
      }
      break;
    }
    const tail = rates.slice(-STEADY.linearRounds);
    const depth = (first.servedSoFar + requests) / workers;
    if (tail.length === STEADY.linearRounds && depth >= STEADY.linearDepth) {
      const mean = tail.reduce((a, x) => a + x, 0) / tail.length;
      if (tail.every((x) => Math.abs(x - mean) <= STEADY.linearSpread * mean)) {
        linear = true;
        break;
      }
    }
    size = Math.min(size * 2, Math.max(first.requests, first.connections) * STEADY.maxRoundFactor);
  }
  return {
    rounds,
    requests,
    requestsPerWorker: (first.servedSoFar + requests) / workers,
    durationMs: deps.clock.now() - started,
    lastBytesPerRequest: Number.isFinite(last) ? last : 0,
    thresholdBytesPerRequest: threshold,
    reached,
    linear,
    ...(bound ? { bound } : {}),
    inFlight: Math.min(first.connections, STEADY.inFlight),
    ...(target !== undefined ? { targetRequestsPerWorker: target } : {}),
    ...(warmedOn && steadyAt !== undefined && steadyAt < (first.servedSoFar + requests) / workers
      ? { warmedOn, steadyAtRequestsPerWorker: steadyAt }
      : {}),
  };
}

/**
 * How long the first variant's first run may go on warming once steady: a quarter of its boot. Booting a variant
 * again because another needed a deeper warm-up costs a boot, a settle and a stop (the seed: 2.8 s, against
 * rounds of 0.05-0.2 s): rounds that reach the other variants' depth in advance are the cheaper bet.
 */
export function warmOnBudgetMs(bootMs: number): number {
  return bootMs / 4;
}
