import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpExchange } from '../../../src/protocols/http/client.js';
import type { WarmupSettings } from '../../../src/results/types.js';

/**
 * A loopback server scripted byte by byte: each request's path picks an answer, written in the pieces given; it
 * closes only where the script says so (an answer whose end is its length or its last chunk must not wait for a close).
 */
const ANSWERS: Record<string, { pieces: string[]; close: boolean }> = {
  '/length': { pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Worker-Pid: 4242\r\n\r\nhe', 'llo'], close: false },
  '/chunked': { pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '0\r\n', '\r\n'], close: false },
  '/close': { pieces: ['HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until the close'], close: true },
  '/continue': { pieces: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'], close: false },
  '/empty': { pieces: ['HTTP/1.1 204 No Content\r\nX-Worker-Pid: 7\r\n\r\n'], close: false },
  '/garbage': { pieces: ['SSH-2.0-OpenSSH\r\n\r\n'], close: true },
};

let server: Server;
let port = 0;
const requests: string[] = [];
const open = new Set<Socket>();

before(async () => {
  server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    let text = '';
    s.on('data', async (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      requests.push(text);
      const path = text.split(' ')[1] ?? '';
      const answer = ANSWERS[path] ?? ANSWERS['/close'];
      for (const piece of answer?.pieces ?? []) {
        s.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (answer?.close) s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
});

const settings = (path: string, more: Partial<WarmupSettings> = {}) =>
  ({ path, requests: 1, connections: 1, workerPidHeader: 'X-Worker-Pid', ...more }) as WarmupSettings;
const ask = (path: string, more: Partial<WarmupSettings> = {}) => httpExchange({ port }, settings(path, more), AbortSignal.timeout(5_000));

describe("the warm-up's HTTP exchange (a raw socket, read to the answer's end)", () => {
  it('ends at the Content-Length, with the pid header, while the server keeps the connection open', async () => {
    assert.deepEqual(await ask('/length'), { status: 200, workerPid: '4242', closeDelimited: false });
  });

  it("ends at a chunked body's last chunk, however the chunks arrive", async () => {
    assert.deepEqual(await ask('/chunked'), { status: 200, workerPid: undefined, closeDelimited: false });
  });

  it("counts an answer that ends at the server's close, and says it is close-delimited", async () => {
    assert.deepEqual(await ask('/close'), { status: 200, workerPid: undefined, closeDelimited: true });
  });

  it('reads past an interim 100 Continue to the answer, and a 204 ends at its head', async () => {
    assert.equal((await ask('/continue')).status, 201);
    assert.deepEqual(await ask('/empty'), { status: 204, workerPid: '7', closeDelimited: false });
  });

  it("sends a route's method, headers and body, with its length and one Connection: close", async () => {
    const before = requests.length;
    await ask('/length', { method: 'POST', body: '{"a":1}', headers: { 'Content-Type': 'application/json', Connection: 'keep-alive' } });
    const sent = requests[before] ?? '';
    assert.match(sent, /^POST \/length HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nContent-Type: application\/json\r\n/);
    assert.match(sent, /\r\nContent-Length: 7\r\n/);
    assert.equal(sent.match(/connection:/gi)?.length, 1);
    assert.match(sent, /\r\nConnection: close\r\n\r\n\{"a":1\}$/);
  });

  it('refuses an answer that is not HTTP, and ends on an abort', async () => {
    await assert.rejects(ask('/garbage'), /not an HTTP answer/);
    const ac = new AbortController();
    const pending = httpExchange(
      { port },
      settings('/length', { method: 'POST', body: 'x', headers: { 'Content-Length': '99' } }),
      ac.signal,
    );
    ac.abort(new Error('interrupted'));
    await assert.rejects(pending, /interrupted/);
  });
});
