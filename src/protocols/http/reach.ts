import { connect, type Socket } from 'node:net';
import { nowMs, sleep } from '../../clock.js';
import { acceptedInodes, socketHolders } from '../../proc/sockets.js';
import type { ReachResult } from '../protocol.js';

/**
 * Held connections per worker at the most: a threaded worker accepts several while others wait for theirs.
 * A worker whose reactor buffers unfinished requests takes any number of them, so on a loaded machine one
 * worker can win every accept race for a while (seen in CI with 4 per worker); 16 gives the others 30 chances on two.
 */
const MAX_HELD_PER_WORKER = 16;

/**
 * Makes every worker serve a request, and knows which one did, without any help from the app: each
 * connection sends an unfinished request, so the worker that accepts it holds it open, reading; which
 * worker holds which is seen through /proc/net/tcp and the workers' fds. A synchronous worker holds one
 * and cannot accept another, so one connection per worker reaches them all. A threaded or asynchronous
 * worker accepts many: while every connection is held and some worker holds none, more connections are
 * opened (up to MAX_HELD_PER_WORKER per worker). Then the requests are finished and answered. A worker
 * that never accepts (stopped, stuck) leaves it inconclusive.
 */
export async function reachEveryWorker(
  port: number,
  path: string,
  workerPids: number[],
  signal?: AbortSignal,
  timeoutMs = 5000,
): Promise<ReachResult> {
  const result: ReachResult = { conclusive: false, served: [], statusCodes: {}, errors: 0 };
  const sockets: Socket[] = [];
  const responses = new Map<Socket, string>();
  const closed = new Map<Socket, Promise<void>>();
  const open = async (n: number) => {
    const wave: Socket[] = [];
    for (let i = 0; i < n; i++) {
      const s = connect({ host: '127.0.0.1', port });
      s.setNoDelay(true);
      responses.set(s, '');
      s.on('data', (d) => responses.set(s, (responses.get(s) ?? '') + d.toString('latin1')));
      closed.set(
        s,
        new Promise((r) => {
          s.on('close', () => r());
          s.on('error', () => {
            result.errors++;
            r();
          });
        }),
      );
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`);
      sockets.push(s);
      wave.push(s);
    }
    await Promise.all(wave.map((s) => (s.localPort ? Promise.resolve() : new Promise((r) => s.once('connect', r)))));
  };
  try {
    await open(workerPids.length);
    const deadline = nowMs() + timeoutMs;
    let holders = new Map<number, number>();
    while (nowMs() < deadline) {
      signal?.throwIfAborted();
      const byClient = acceptedInodes(port);
      const inodes = sockets.map((s) => byClient.get(s.localPort ?? -1)).filter((i): i is number => i !== undefined);
      holders = socketHolders(inodes, workerPids);
      const distinct = new Set(holders.values()).size;
      if (distinct === workerPids.length) break;
      // Every connection held, and still a worker with none: some worker took several (threads).
      const allHeld = inodes.length === sockets.length && holders.size === sockets.length;
      if (allHeld && sockets.length < workerPids.length * MAX_HELD_PER_WORKER) {
        await open(Math.min(workerPids.length - distinct, workerPids.length * MAX_HELD_PER_WORKER - sockets.length));
        continue;
      }
      await sleep(10);
    }
    const distinct = new Set(holders.values());
    for (const s of sockets) s.write('\r\n');
    await Promise.race([Promise.all(closed.values()), sleep(10_000)]);
    for (const [, text] of responses) {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m) result.statusCodes[m[1] as string] = (result.statusCodes[m[1] as string] ?? 0) + 1;
    }
    const answered = [...responses.values()].filter((t) => /^HTTP\/1\.[01] \d{3}/.test(t)).length;
    result.served = [...distinct];
    result.conclusive = distinct.size === workerPids.length && answered === sockets.length;
    return result;
  } finally {
    for (const s of sockets) s.destroy();
  }
}
