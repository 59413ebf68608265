import { createRequire } from 'node:module';
import type autocannon from 'autocannon';
import { nowMs } from '../clock.js';
import { cpuState } from '../proc/sockets.js';
import type { WarmupSettings } from '../scenario/scenario.js';

/** What the warm-up did: a hey-style account of the load sent to the server. */
export interface WarmupResult {
  url: string;
  /** Requests that got a response. */
  requests: number;
  /** Requests sent. */
  sent: number;
  connections: number;
  durationMs: number;
  requestsPerSecond: number;
  /** Responses per HTTP status code, e.g. {"204": 30}. */
  statusCodes: Record<string, number>;
  /** Connection errors (refused, reset, timeouts included). */
  errors: number;
  timeouts: number;
  /** Response latency in milliseconds. */
  latencyMs: {
    min: number;
    mean: number;
    p10: number;
    p25: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    max: number;
  };
  /** Requests answered by each worker pid (only when the app reports its pid in a header). */
  requestsPerWorker?: Record<string, number>;
  /** How it was decided that each worker served traffic. */
  trafficEvidence: 'pid-header' | 'cpu-time';
  /** Workers with no sign of having served a request. */
  idleWorkers: number[];
  /**
   * Extra rounds sent after the warm-up because some workers had served nothing (a worker that never
   * served is not warm and would understate memory). Counted apart from the figures above.
   */
  topUp?: { rounds: number; requests: number; statusCodes: Record<string, number>; errors: number };
}

type Autocannon = typeof autocannon;
let loaded: Autocannon | undefined;
/**
 * autocannon takes ~150 ms to load: the engine calls this while the first server boots, so the
 * load is off the critical path (and off the snapshot path entirely).
 */
export function loadAutocannon(): Autocannon {
  loaded ??= createRequire(import.meta.url)('autocannon') as Autocannon;
  return loaded;
}

interface Batch {
  result: autocannon.Result;
  durationMs: number;
}

function runBatch(
  url: string,
  settings: WarmupSettings,
  amount: number,
  perWorker: Record<string, number>,
  signal?: AbortSignal,
): Promise<Batch> {
  const header = settings.workerPidHeader?.toLowerCase();
  const started = nowMs();
  return new Promise<Batch>((resolveRun, reject) => {
    const instance = loadAutocannon()(
      {
        url,
        amount,
        connections: Math.min(settings.connections, amount),
        // The default 1 s sample interval would make a 30-request warm-up last a whole second.
        sampleInt: 20,
        timeout: 10,
        requests: [
          {
            method: 'GET',
            path: settings.path,
            onResponse: (_status: number, _body: string, _context: unknown, headers?: Record<string, string>) => {
              if (!header || !headers) return;
              const pid = headers[header] ?? headers[settings.workerPidHeader ?? ''];
              if (pid) perWorker[pid] = (perWorker[pid] ?? 0) + 1;
            },
          },
        ],
      } as autocannon.Options,
      (err, res) => (err ? reject(err) : resolveRun({ result: res, durationMs: nowMs() - started })),
    );
    const onAbort = () => (instance as unknown as { stop(): void }).stop();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function statusCodesOf(result: autocannon.Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) out[code] = (stat as { count: number }).count;
  return out;
}

/** Rounds of top-up requests at most, when some workers served nothing in the warm-up. */
const MAX_TOP_UP_ROUNDS = 20;

/**
 * Sends the warm-up (the article: 30 requests over 30 connections) and checks that every worker
 * served traffic. With a worker-pid header it tops up until each worker has served (bounded).
 */
export async function warmUp(port: number, settings: WarmupSettings, workerPids: number[], signal?: AbortSignal): Promise<WarmupResult> {
  const url = `http://127.0.0.1:${port}`;
  const perWorker: Record<string, number> = {};
  const cpuBefore = new Map(workerPids.map((pid) => [pid, cpuState(pid)?.cpuNs ?? 0]));
  const { result, durationMs } = await runBatch(url, settings, settings.requests, perWorker, signal);
  signal?.throwIfAborted();
  const statusCodes = statusCodesOf(result);
  const byHeader = settings.workerPidHeader !== undefined && Object.keys(perWorker).length > 0;
  const idle = () => workerPids.filter((pid) => !perWorker[String(pid)]);
  let topUp: WarmupResult['topUp'];
  if (byHeader && idle().length > 0) {
    topUp = { rounds: 0, requests: 0, statusCodes: {}, errors: 0 };
    while (idle().length > 0 && topUp.rounds < MAX_TOP_UP_ROUNDS) {
      const extra = await runBatch(url, settings, settings.connections, perWorker, signal);
      signal?.throwIfAborted();
      topUp.rounds++;
      topUp.requests += extra.result.requests.total ?? 0;
      topUp.errors += extra.result.errors;
      for (const [code, n] of Object.entries(statusCodesOf(extra.result))) topUp.statusCodes[code] = (topUp.statusCodes[code] ?? 0) + n;
    }
  }
  const l = result.latency as unknown as Record<string, number>;
  let idleWorkers: number[];
  let trafficEvidence: WarmupResult['trafficEvidence'];
  if (byHeader) {
    trafficEvidence = 'pid-header';
    idleWorkers = idle();
  } else {
    // Weaker: idle sync workers also wake on every connection, but a stuck worker shows no CPU at all.
    trafficEvidence = 'cpu-time';
    idleWorkers = workerPids.filter((pid) => (cpuState(pid)?.cpuNs ?? 0) <= (cpuBefore.get(pid) ?? 0));
  }
  const requests = result.requests.total ?? 0;
  const out: WarmupResult = {
    url,
    requests,
    sent: (result.requests as unknown as { sent: number }).sent ?? requests,
    connections: settings.connections,
    durationMs,
    requestsPerSecond: durationMs > 0 ? (requests * 1000) / durationMs : 0,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      min: l.min ?? 0,
      mean: l.average ?? 0,
      p10: l.p10 ?? 0,
      p25: l.p25 ?? 0,
      p50: l.p50 ?? 0,
      p75: l.p75 ?? 0,
      p90: l.p90 ?? 0,
      p97_5: l.p97_5 ?? 0,
      p99: l.p99 ?? 0,
      max: l.max ?? 0,
    },
    trafficEvidence,
    idleWorkers,
  };
  if (byHeader) out.requestsPerWorker = perWorker;
  if (topUp) out.topUp = topUp;
  return out;
}
