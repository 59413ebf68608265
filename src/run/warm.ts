import { setMaxListeners } from 'node:events';
import { get as httpGet } from 'node:http';
import { createRequire } from 'node:module';
import type autocannon from 'autocannon';
import { nowMs } from '../clock.js';
import type { CpuState } from '../proc/stat.js';
import type { WarmupResult, WarmupSettings } from '../results/types.js';
import { reachEveryWorker } from './reach.js';
import { type BatchResult, type LoadGenerator, type ProcView, realProc } from './seams.js';

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

/** What a series of batches did, added up. */
interface Sent extends BatchResult {
  statusCodes: Record<string, number>;
  durationMs: number;
}

/** The real load generator: autocannon in-process, loopback only. */
export const autocannonLoad: LoadGenerator = {
  batch(url, settings, amount, onResponse, signal) {
    const header = settings.workerPidHeader?.toLowerCase();
    const latenciesMs: number[] = [];
    return new Promise<BatchResult>((resolveRun, reject) => {
      // Listening only while this batch runs: a long warm-up has hundreds of batches.
      const onAbort = () => (instance as unknown as { stop(): void }).stop();
      const instance = loadAutocannon()(
        {
          url,
          amount,
          connections: amount,
          // A batch lasts at least one sample interval: the default 1 s would make a 30-request warm-up last a
          // second, and 20 ms capped a soak at ~400 requests/s (measured); 5 ms allows ~1,000/s with 10 connections.
          sampleInt: 5,
          timeout: 10,
          requests: [
            {
              method: 'GET',
              path: settings.path,
              // One request per connection, said so (as nginx says to its upstreams and hey -disable-keepalive
              // does): the server closes it after the response. A kept-alive connection dropped by the client
              // instead costs some servers memory per connection (an ASGI server here: ~4 KiB each, never returned; docs/method.md).
              headers: { connection: 'close' },
              onResponse: (status: number, _body: string, _context: unknown, headers?: Record<string, string>) => {
                const pid = header && headers ? (headers[header] ?? headers[settings.workerPidHeader ?? '']) : undefined;
                onResponse(status, pid);
              },
            },
          ],
        } as autocannon.Options,
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) return reject(err);
          resolveRun({
            requests: res.requests.total ?? 0,
            sent: (res.requests as unknown as { sent?: number }).sent ?? amount,
            errors: res.errors,
            timeouts: res.timeouts,
            latenciesMs,
          });
        },
      );
      (instance as unknown as NodeJS.EventEmitter).on(
        'response',
        (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
          latenciesMs.push(responseTime);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
  flow: httpFlow,
  reach: reachEveryWorker,
};

/**
 * The warm-up's steady flow over HTTP: `connections` lanes, each sending one request on a connection of its
 * own and the next as soon as it is answered, until `amount` have been sent (as `hey -c N` does). Node's own
 * HTTP client, not autocannon: autocannon 9 writes `Connection: keep-alive` into every request ahead of the
 * caller's headers, and a server that reads the first Connection header then keeps each connection and parks
 * it until the client hangs up: +2.2% total PSS on a Ruby app against hey's requests (measured, docs/method.md);
 * and its reconnectRate, which opens a connection per request, leaves the answer it reconnects on uncounted.
 * autocannon stays the soak's load generator.
 */
async function httpFlow(
  url: string,
  settings: WarmupSettings,
  amount: number,
  onResponse: (status: number, workerPid: string | undefined) => void,
  signal?: AbortSignal,
): Promise<BatchResult> {
  const header = settings.workerPidHeader?.toLowerCase();
  // The path as it is, on the url's host and port: never resolved against the url (a path "//host/x" would leave loopback).
  const { hostname, port } = new URL(url);
  const out: BatchResult = { requests: 0, sent: 0, errors: 0, timeouts: 0, latenciesMs: [] };
  let left = amount;
  // One abort for the whole flow: a listener per request on the run's signal would pile up past Node's warning.
  const flowAbort = new AbortController();
  setMaxListeners(0, flowAbort.signal);
  const onAbort = () => flowAbort.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const one = () =>
    new Promise<void>((resolveOne) => {
      let settled = false;
      const done = () => {
        settled = true;
        resolveOne();
      };
      const t0 = nowMs();
      let timedOut = false;
      out.sent++;
      // agent: false is a connection for this request alone; Node says `Connection: close` in it.
      const options = { hostname, port, path: settings.path, agent: false, signal: flowAbort.signal, headers: { connection: 'close' } };
      const req = httpGet(options, (res) => {
        res.resume();
        res.on('end', () => {
          if (settled) return;
          out.requests++;
          out.latenciesMs.push(nowMs() - t0);
          const pid = header ? res.headers[header] : undefined;
          onResponse(res.statusCode ?? 0, Array.isArray(pid) ? pid[0] : pid);
          done();
        });
        res.on('error', () => {
          if (settled) return;
          out.errors++;
          done();
        });
      });
      req.setTimeout(FLOW_TIMEOUT_MS, () => {
        timedOut = true;
        out.timeouts++;
        req.destroy();
      });
      req.on('error', () => {
        if (settled) return;
        if (!timedOut && !flowAbort.signal.aborted) out.errors++;
        done();
      });
    });
  const lane = async () => {
    while (left > 0 && !flowAbort.signal.aborted) {
      left--;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(amount, settings.connections)) }, lane));
  signal?.removeEventListener('abort', onAbort);
  signal?.throwIfAborted();
  return out;
}

/** A request unanswered this long is a timeout (autocannon's default, as the batches use). */
const FLOW_TIMEOUT_MS = 10_000;

export interface WarmDeps {
  load: LoadGenerator;
  proc: ProcView;
}

/**
 * Sends `amount` requests, at most `connections` at a time, one request per connection (as hey
 * does against a server that closes each connection: Python's sync workers do, and autocannon
 * would otherwise lose the second request of every kept-alive connection).
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
  // A steady flow where the load generator has one; else batches of `connections` opened at once.
  const chunk = load.flow ? amount : settings.connections;
  for (let left = amount; left > 0; left -= chunk) {
    signal?.throwIfAborted();
    const n = Math.min(left, chunk);
    const b = load.flow ? await load.flow(url, settings, n, onResponse, signal) : await load.batch(url, settings, n, onResponse, signal);
    out.requests += b.requests;
    out.sent += b.sent;
    out.errors += b.errors;
    out.timeouts += b.timeouts;
    out.latenciesMs.push(...b.latenciesMs);
  }
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
  signal?: AbortSignal,
  deps: WarmDeps = { load: autocannonLoad, proc: realProc },
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
