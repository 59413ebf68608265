import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpProtocol } from '../../src/protocols/http/index.js';
import { realWire } from '../../src/protocols/registry.js';
import type { WarmupSettings } from '../../src/results/types.js';
import { sendRound } from '../../src/run/warm.js';

/**
 * How the warm-up's requests arrive at a real server (Node's http on loopback, the HTTP protocol's lanes): a steady
 * flow of one-request connections at the scenario's concurrency, as `hey -c N` sends them — not batches
 * of N opened at once, which a Puma worker answers with a larger heap (docs/method.md).
 */
describe('warm-up as a steady flow', { timeout: 60_000 }, () => {
  let server: Server;
  let port = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let drained = 0;
  let served = 0;
  let connections = 0;
  const requestsOnSocket = new Map<object, number>();
  const connectionHeaders = new Set<string>();
  const reset = () => {
    inFlight = 0;
    maxInFlight = 0;
    drained = 0;
    served = 0;
    connections = 0;
    requestsOnSocket.clear();
    connectionHeaders.clear();
  };

  before(async () => {
    server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      requestsOnSocket.set(req.socket, (requestsOnSocket.get(req.socket) ?? 0) + 1);
      const said: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        if (req.rawHeaders[i]?.toLowerCase() === 'connection') said.push(req.rawHeaders[i + 1] ?? '');
      connectionHeaders.add(said.join(' + '));
      const k = served++;
      // Unequal service times, so that a batch waits for its slowest request and a flow does not.
      setTimeout(
        () => {
          inFlight--;
          if (inFlight === 0) drained++;
          res.writeHead(k % 10 === 9 ? 503 : 200, { 'x-worker-pid': String(100 + (k % 3)), 'content-length': '2' });
          res.end('ok');
        },
        1 + (k % 7) * 2,
      );
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const settings: WarmupSettings = { requests: 30, connections: 10, path: '/', workerPidHeader: 'X-Worker-Pid' };
  // The warm-up's HTTP load as a run builds it: the protocol's lanes on the real wire.
  const httpLoad = httpProtocol.load(settings, realWire, { cwd: '/', env: {} });

  it('a round keeps its concurrency until its last requests, one request per connection, each answer counted', async () => {
    reset();
    const r = await sendRound(port, settings, 200, undefined, httpLoad);
    assert.equal(r.requests, 200, 'every answer counted');
    assert.equal(r.errors, 0);
    assert.deepEqual(r.statusCodes, { 200: 180, 503: 20 });
    assert.deepEqual(
      Object.values(r.perWorker).reduce((a, b) => a + b, 0),
      200,
      `the pid header read from every answer: ${JSON.stringify(r.perWorker)}`,
    );
    assert.ok(maxInFlight <= 10, `at most the scenario's connections in flight (saw ${maxInFlight})`);
    assert.ok(maxInFlight >= 8, `the concurrency is used (saw ${maxInFlight})`);
    assert.ok(
      [...requestsOnSocket.values()].every((n) => n === 1),
      'one request per connection',
    );
    // One Connection header, "close": a server that reads the first of two (Puma) would keep a "keep-alive, close" connection.
    assert.deepEqual([...connectionHeaders], ['close']);
    // Batches of 10 would drain the server 20 times; a flow drains it at its end (and, by chance, rarely before).
    assert.ok(drained <= 4, `a flow, not batches: the server went idle ${drained} times during 200 requests`);
  });

  it("the run's signal carries one listener for a whole flow, not one per request (Node warns past 10)", async () => {
    reset();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const ac = new AbortController();
    const r = await sendRound(port, { ...settings, connections: 20 }, 100, ac.signal, httpLoad);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.equal(r.requests, 100);
    assert.deepEqual(warnings, []);
  });

  it('a round smaller than the concurrency opens only as many connections as requests', async () => {
    reset();
    const r = await sendRound(port, settings, 4, undefined, httpLoad);
    assert.equal(r.requests, 4);
    assert.equal(served, 4);
    assert.ok(maxInFlight <= 4);
  });

  it('a stopped warm-up stops the flow', async () => {
    reset();
    const ac = new AbortController();
    const flowing = sendRound(port, settings, 100_000, ac.signal, httpLoad);
    while (served < 50) await new Promise((r) => setImmediate(r));
    ac.abort();
    await flowing.catch(() => undefined);
    const at = served;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(served < 1000 && served - at <= 10, `the flow ended when asked (${served} served, ${at} at the stop)`);
  });
});

describe("answers that end at the server's close (no Content-Length, not chunked)", { timeout: 30_000 }, () => {
  it('autocannon counts none of them; the lanes (warm-up and soak) count each, and after one is seen the phase goes through them too', async (t) => {
    let served = 0;
    const server = createNetServer((s) => {
      // autocannon writes its next request before it reads the close: the reset that answers it is expected.
      s.on('error', () => {});
      s.once('data', () => {
        served++;
        s.end('HTTP/1.1 200 OK\r\nX-Worker-Pid: 7\r\nConnection: close\r\n\r\nhello');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const settings: WarmupSettings = { requests: 10, connections: 4, path: '/', workerPidHeader: 'X-Worker-Pid' };
    const theirs = await realWire.sustain(url, settings, { connections: 4, durationMs: 300 });
    assert.equal(theirs.requests, 0, 'autocannon never completes such an answer');
    const load = httpProtocol.load(settings, realWire, { cwd: '/', env: {} });
    const pids: (string | undefined)[] = [];
    const flow = await load.flow(url, settings, 10, () => {});
    // The soak's lanes: one request at a time each.
    const one = await Promise.all([1, 2, 3, 4].map(() => load.flow(url, settings, 1, (_status, pid) => pids.push(pid))));
    assert.equal(flow.requests, 10);
    assert.equal(
      one.reduce((a, r) => a + r.requests, 0),
      4,
    );
    assert.deepEqual(new Set(pids), new Set(['7']));
    const phase = await load.sustain?.(url, settings, { connections: 4, durationMs: 300 });
    assert.equal(phase?.client, 'lanes');
    assert.ok((phase?.requests ?? 0) >= 20, `${phase?.requests} answered in the phase`);
    assert.ok(served >= 34, `${served} served`);
  });
});
