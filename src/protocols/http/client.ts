import { Agent, get as httpGet } from 'node:http';
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
 * One request on a connection of its own, saying `Connection: close`, read to its end: the Content-Length's bytes,
 * a chunked body's last chunk, or the server's close for a body that has neither (close-delimited). Not autocannon:
 * autocannon 9 writes `Connection: keep-alive` into every request ahead of the caller's headers, and a server that
 * reads the first Connection header then keeps each connection and parks it until the client hangs up: +2.2% total
 * PSS on a Ruby app against hey's requests (measured, docs/method.md); and its reconnectRate, which opens a
 * connection per request, leaves the answer it reconnects on uncounted. Not Node's HTTP client either: the warm-up's
 * rounds go at the load generator's pace, and through Node's client they took 0.40-0.50 ms of CPU a request (a round
 * of 240 against the seed's sync workers: 95-120 ms); a raw socket and a parse of the head alone (kept here: the
 * status line and three headers) take 0.27-0.31 ms (66 ms).
 */
export function httpExchange(target: Target, settings: WarmupSettings, signal: AbortSignal): Promise<Answer> {
  const header = settings.workerPidHeader?.toLowerCase();
  const method = settings.method ?? 'GET';
  const body = settings.body === undefined ? undefined : Buffer.from(settings.body);
  const lines = [`${method} ${settings.path} HTTP/1.1`, `Host: 127.0.0.1:${target.port}`];
  for (const [k, v] of Object.entries(settings.headers ?? {})) {
    const name = k.toLowerCase();
    if (name === 'connection' || name === 'host' || (body && name === 'content-length')) continue;
    lines.push(`${k}: ${String(v).replace(/[\r\n]+/g, ' ')}`);
  }
  if (body) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close', '', '');
  const request = Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body ?? Buffer.alloc(0)]);
  return new Promise<Answer>((resolveOne, reject) => {
    const s = connect({ host: '127.0.0.1', port: target.port });
    let head = '';
    let parsed:
      | { status: number; workerPid: string | undefined; length: number | undefined; chunked: boolean; bodyless: boolean }
      | undefined;
    let received = 0;
    let tail = '';
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      if (error) return reject(error);
      if (!parsed) return reject(new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 16))}`));
      resolveOne({
        status: parsed.status,
        workerPid: parsed.workerPid,
        closeDelimited: parsed.length === undefined && !parsed.chunked && !parsed.bodyless,
      });
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => finish(new NoAnswerError(`no HTTP answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Written, not ended: a half-close after the request reads as a client gone to some servers (see closingExchange).
    s.on('connect', () => s.write(request));
    s.on('data', (d: Buffer) => {
      let rest = d;
      while (!parsed) {
        head += rest.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 65_536) return finish(new Error('an HTTP head over 64 KiB'));
          return;
        }
        const answer = parseHead(head.slice(0, end), header, method);
        if (answer.status === 0) return finish(new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 16))}`));
        rest = Buffer.from(head.slice(end + 4), 'latin1');
        head = '';
        // An interim answer (100 Continue) is followed by the real one.
        if (answer.status >= 100 && answer.status < 200 && answer.status !== 101) continue;
        parsed = answer;
      }
      received += rest.length;
      if (parsed.chunked) tail = (tail + rest.toString('latin1')).slice(-7);
      if (
        parsed.bodyless ||
        (parsed.length !== undefined && received >= parsed.length) ||
        (parsed.chunked && /(^|\r\n)0\r\n\r\n$/.test(tail))
      )
        finish();
    });
    s.on('close', () => finish());
    s.on('error', (e) => finish(e));
  });
}

/** The status line and the headers that say where the body ends (and who served it), from an answer's head. */
function parseHead(text: string, pidHeader: string | undefined, method: string) {
  const rows = text.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(rows[0] ?? '');
  const status = m ? Number(m[1]) : 0;
  let length: number | undefined;
  let chunked = false;
  let workerPid: string | undefined;
  for (const row of rows.slice(1)) {
    const colon = row.indexOf(':');
    if (colon < 0) continue;
    const name = row.slice(0, colon).trim().toLowerCase();
    const value = row.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = /chunked/i.test(value);
    else if (name === pidHeader && workerPid === undefined) workerPid = value;
  }
  const bodyless = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  return { status, workerPid, length: chunked || !Number.isFinite(length) ? undefined : length, chunked, bodyless };
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
