import { Agent, get as httpGet, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type autocannon from 'autocannon';
import type { WarmupSettings } from '../../results/types.js';
import { type Answer, NoAnswerError, type SustainOptions, type SustainResult, type Target } from '../protocol.js';

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

/** A request unanswered this long is a timeout (autocannon's default). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One GET on a connection of its own, read to its end (a response without Content-Length ends when the
 * server closes). Node's own HTTP client, not autocannon: autocannon 9 writes `Connection: keep-alive` into
 * every request ahead of the caller's headers, and a server that reads the first Connection header then keeps
 * each connection and parks it until the client hangs up: +2.2% total PSS on a Ruby app against hey's
 * requests (measured, docs/method.md); and its reconnectRate, which opens a connection per request, leaves
 * the answer it reconnects on uncounted.
 */
export function httpExchange(target: Target, settings: WarmupSettings, signal: AbortSignal): Promise<Answer> {
  const header = settings.workerPidHeader?.toLowerCase();
  return new Promise<Answer>((resolveOne, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    // agent: false is a connection for this request alone; Node says `Connection: close` in it.
    // The path as it is, on loopback: never resolved against a url (a path "//host/x" would leave loopback).
    const options = {
      hostname: '127.0.0.1',
      port: target.port,
      path: settings.path,
      agent: false,
      signal,
      // A route's method, headers and body (the mix); a plain GET otherwise.
      method: settings.method ?? 'GET',
      headers: { ...settings.headers, connection: 'close' },
    };
    const req = httpRequest(options, (res) => {
      res.resume();
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const pid = header ? res.headers[header] : undefined;
        // A body that only the server's close ends: no length, not chunked (and a status that has a body).
        const status = res.statusCode ?? 0;
        const closeDelimited =
          res.headers['content-length'] === undefined && res.headers['transfer-encoding'] === undefined && status !== 204 && status !== 304;
        resolveOne({ status, workerPid: Array.isArray(pid) ? pid[0] : pid, closeDelimited });
      });
      res.on('error', fail);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      fail(new NoAnswerError(`no HTTP answer within ${REQUEST_TIMEOUT_MS} ms`));
      req.destroy();
    });
    req.on('error', fail);
    req.end(settings.body);
  });
}

/**
 * Two GETs through one keep-alive agent: true when the second went out on the first one's connection and was
 * answered, i.e. the server keeps connections and its answers carry their length (a close-delimited answer
 * cannot leave its connection open). What decides whether the throughput phase goes through autocannon.
 */
export async function keepsAlive(port: number, path: string): Promise<boolean> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise<{ reused: boolean; ok: boolean }>((resolveOne) => {
      const req = httpGet({ hostname: '127.0.0.1', port, path, agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolveOne({ reused: req.reusedSocket, ok: true }));
        res.on('error', () => resolveOne({ reused: req.reusedSocket, ok: false }));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolveOne({ reused: req.reusedSocket, ok: false }));
    });
  try {
    const first = await one();
    if (!first.ok) return false;
    // The server's close of the first connection, if it closes, arrives before the second request is written.
    await new Promise((r) => setTimeout(r, 20));
    const second = await one();
    return second.ok && second.reused;
  } finally {
    agent.destroy();
  }
}

/** The requests of a phase that sends the mix: each route as many times as its weight (rounded, at least once), or the one path. */
export function mixOf(settings: WarmupSettings): { path: string; method?: string; body?: string; headers?: Record<string, string> }[] {
  if (!settings.routes || settings.routes.length < 2) return [{ path: settings.path }];
  return settings.routes.flatMap((r) => Array.from({ length: Math.max(1, Math.round(r.weight)) }, () => r));
}

/**
 * The throughput phase through autocannon: `connections` kept-alive connections for `durationMs`, each
 * sending its next request when its last is answered; latencies from its HdrHistogram. A stopped signal
 * stops it at once, marked cut.
 */
export function autocannonSustain(url: string, settings: WarmupSettings, o: SustainOptions, signal?: AbortSignal): Promise<SustainResult> {
  return new Promise<SustainResult>((resolveRun, reject) => {
    const onAbort = () => (instance as unknown as { stop(): void }).stop();
    const statusCodes: Record<string, number> = {};
    const instance = loadAutocannon()(
      {
        url,
        connections: o.connections,
        duration: o.durationMs / 1000,
        // autocannon ends at its first sample tick after the duration: with its default 1 s ticks a 2 s phase
        // ran 3 s whenever its stop timer fired just after the 2 s tick (seen: 568 responses read as 2 s).
        sampleInt: 100,
        timeout: REQUEST_TIMEOUT_MS / 1000,
        // Several routes: the mix, each connection going round it (a route's weight is its number of turns).
        requests: mixOf(settings).map((r) => ({
          method: (r.method ?? 'GET') as autocannon.Request['method'],
          path: r.path,
          ...(r.body !== undefined ? { body: r.body } : {}),
          ...(r.headers ? { headers: r.headers } : {}),
        })),
      } as autocannon.Options,
      (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) return reject(err);
        const l = res.latency;
        resolveRun({
          client: 'autocannon',
          keepAlive: true,
          requests: res.requests.total ?? 0,
          sent: (res.requests as unknown as { sent?: number }).sent ?? res.requests.total ?? 0,
          errors: res.errors,
          timeouts: res.timeouts,
          statusCodes,
          // Its own clock, from its start to its last tick: every response counted fell within it.
          durationMs: res.duration * 1000,
          latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
          cut: signal?.aborted === true,
        });
      },
    );
    (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, status: number) => {
      statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1;
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One GET that says `Connection: close`, read until the server closes: the throughput phase's request where
 * autocannon cannot be used. A raw socket, not Node's HTTP client: on a 2-core host, against 4 sync workers
 * burning CPU, Node's client took 53% of a core for 755-828 requests/s, this 38% for 882-927, and hey read
 * 948-1,021 (the load generator's CPU is the server's loss). The answer needs no parsing past its status
 * line: every response ends at the close it asked for, close-delimited and chunked ones alike.
 */
export function closingExchange(target: Target, path: string, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolveOne, reject) => {
    const s = connect({ host: '127.0.0.1', port: target.port });
    let head = '';
    let settled = false;
    const done = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      if (error) return reject(error);
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head);
      if (!m) return reject(new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 16))}`));
      resolveOne({ status: Number(m[1]), workerPid: undefined });
    };
    const onAbort = () => done(new Error('aborted'));
    const timer = setTimeout(() => done(new NoAnswerError(`no HTTP answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    signal.addEventListener('abort', onAbort, { once: true });
    // Written, not ended: a half-close after the request reads as a client gone to some servers (a fork_worker server's reforked
    // workers closed 2 in 3 such connections unanswered); the server's close ends the answer.
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      if (head.length < 16) head += d.toString('latin1', 0, 16);
    });
    s.on('close', () => done());
    s.on('error', (e) => done(e));
  });
}
