import { nowMs } from '../clock.js';
import type { CpuState } from '../proc/stat.js';
import type { WarmupResult, WarmupSettings } from '../results/types.js';
import type { BatchResult, LoadGenerator, ProcView } from './seams.js';

/** What a series of flows did, added up. */
interface Sent extends BatchResult {
  statusCodes: Record<string, number>;
  durationMs: number;
}

export interface WarmDeps {
  load: LoadGenerator;
  proc: ProcView;
}

/**
 * Sends `amount` requests as the protocol's flow: at most `connections` in flight, one request per
 * connection (as hey does against a server that closes each connection: Python's sync workers do).
 */
async function send(
  load: LoadGenerator,
  url: string,
  settings: WarmupSettings,
  amount: number,
  perWorker: Record<string, number>,
  signal?: AbortSignal,
): Promise<Sent> {
  const out: Sent = { requests: 0, sent: 0, statusCodes: {}, errors: 0, timeouts: 0, latenciesMs: [], durationMs: 0 };
  const started = nowMs();
  const onResponse = (status: number, pid: string | undefined) => {
    out.statusCodes[String(status)] = (out.statusCodes[String(status)] ?? 0) + 1;
    if (pid) perWorker[pid] = (perWorker[pid] ?? 0) + 1;
  };
  signal?.throwIfAborted();
  const b = await load.flow(url, settings, amount, onResponse, signal);
  out.requests += b.requests;
  out.sent += b.sent;
  out.errors += b.errors;
  out.timeouts += b.timeouts;
  out.latenciesMs.push(...b.latenciesMs);
  out.durationMs = nowMs() - started;
  return out;
}

/** One round of a longer warm-up: `amount` requests, counted per worker where the pid header says which. */
export async function sendRound(
  port: number,
  settings: WarmupSettings,
  amount: number,
  signal: AbortSignal | undefined,
  load: LoadGenerator,
): Promise<{ requests: number; perWorker: Record<string, number>; statusCodes: Record<string, number>; errors: number }> {
  const perWorker: Record<string, number> = {};
  const sent = await send(load, `http://127.0.0.1:${port}`, settings, amount, perWorker, signal);
  return { requests: sent.requests, perWorker, statusCodes: sent.statusCodes, errors: sent.errors + sent.timeouts };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** True when a process used CPU between two reads: any thread's time on CPU, or the thread group's ticks. */
export function usedCpu(before: CpuState | undefined, after: CpuState | undefined): boolean {
  if (!after) return false;
  if (!before) return after.cpuNs > 0 || after.groupTicks > 0;
  return after.cpuNs > before.cpuNs || after.groupTicks > before.groupTicks;
}

/** Rounds of top-up requests at most, when some workers served nothing in the warm-up. */
const MAX_TOP_UP_ROUNDS = 20;

/**
 * Sends the warm-up (the article: 30 requests over 30 connections) and checks that every worker
 * served traffic. With a worker-pid header it tops up until each worker has served (bounded).
 */
export async function warmUp(
  port: number,
  settings: WarmupSettings,
  workerPids: number[],
  signal: AbortSignal | undefined,
  deps: WarmDeps,
): Promise<WarmupResult> {
  const { load, proc } = deps;
  const url = `http://127.0.0.1:${port}`;
  const perWorker: Record<string, number> = {};
  const cpuBefore = new Map(workerPids.map((pid) => [pid, proc.cpu(pid)]));
  const main = await send(load, url, settings, settings.requests, perWorker, signal);
  signal?.throwIfAborted();
  // The header counts only when it names workers: an app that reads its pid at import and is preloaded names the master.
  const workerSet = new Set(workerPids.map(String));
  const byHeader = settings.workerPidHeader !== undefined && Object.keys(perWorker).some((p) => workerSet.has(p));
  const notWorkers = byHeader ? [] : Object.keys(perWorker);
  const idle = () => workerPids.filter((pid) => !perWorker[String(pid)]);
  let topUp: WarmupResult['topUp'];
  if (byHeader && idle().length > 0) {
    topUp = { rounds: 0, requests: 0, statusCodes: {}, errors: 0 };
    while (idle().length > 0 && topUp.rounds < MAX_TOP_UP_ROUNDS) {
      const extra = await send(load, url, settings, settings.connections, perWorker, signal);
      signal?.throwIfAborted();
      topUp.rounds++;
      topUp.requests += extra.requests;
      topUp.errors += extra.errors;
      for (const [code, n] of Object.entries(extra.statusCodes)) topUp.statusCodes[code] = (topUp.statusCodes[code] ?? 0) + n;
    }
  }
  let idleWorkers: number[];
  let trafficEvidence: WarmupResult['trafficEvidence'];
  if (byHeader) {
    trafficEvidence = 'pid-header';
    idleWorkers = idle();
  } else {
    // No pid in the responses: hold one request per worker open to see, and make, every worker serve.
    const reach = await load.reach(port, settings.path, workerPids, signal);
    if (reach.conclusive) {
      trafficEvidence = 'connection';
      idleWorkers = workerPids.filter((pid) => !reach.served.includes(pid));
      topUp = { rounds: 1, requests: reach.served.length, statusCodes: reach.statusCodes, errors: reach.errors };
    } else {
      // Weaker: idle sync workers also wake on every connection, but a stuck worker shows no CPU at all.
      // The whole process's CPU time: a threaded worker serves on threads other than its main one.
      trafficEvidence = 'cpu-time';
      idleWorkers = workerPids.filter((pid) => !usedCpu(cpuBefore.get(pid), proc.cpu(pid)));
    }
  }
  const lat = [...main.latenciesMs].sort((a, b) => a - b);
  const out: WarmupResult = {
    url,
    requests: main.requests,
    sent: main.sent,
    connections: settings.connections,
    durationMs: main.durationMs,
    requestsPerSecond: main.durationMs > 0 ? (main.requests * 1000) / main.durationMs : 0,
    statusCodes: main.statusCodes,
    errors: main.errors,
    timeouts: main.timeouts,
    latencyMs: {
      min: lat[0] ?? 0,
      mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : 0,
      p10: percentile(lat, 10),
      p25: percentile(lat, 25),
      p50: percentile(lat, 50),
      p75: percentile(lat, 75),
      p90: percentile(lat, 90),
      p97_5: percentile(lat, 97.5),
      p99: percentile(lat, 99),
      max: lat.at(-1) ?? 0,
    },
    trafficEvidence,
    idleWorkers,
  };
  if (byHeader) out.requestsPerWorker = perWorker;
  if (notWorkers.length > 0) out.pidHeaderNotWorkers = notWorkers;
  if (topUp) out.topUp = topUp;
  return out;
}
