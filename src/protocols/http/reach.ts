import { connect, type Socket } from 'node:net';
import { nowMs, sleep, within } from '../../clock.js';
import { acceptedInodes, socketHolders } from '../../proc/sockets.js';
import type { ReachResult } from '../protocol.js';

/**
 * Held connections per worker at the most: a threaded worker accepts several while others wait for theirs.
 * A worker whose reactor buffers unfinished requests takes any number of them, so on a loaded machine one
 * worker can win every accept race for a while (seen in CI with 4 per worker); 16 gives the others 30 chances on two.
 */
const MAX_HELD_PER_WORKER = 16;

/**
 * Attempts at the most. The kernel wakes a listening socket's epoll waiters most-recent first, so on a
 * loaded machine the workers that just accepted keep winning and one can lose every race of an attempt
 * (seen in 1 attempt in 20 with 3 asyncio workers beside 3 busy cores); each attempt opens fresh
 * connections, and a worker that served in any attempt has served.
 */
const ATTEMPTS = 3;

/**
 * Makes every worker serve a request, and knows which one did, without any help from the app: each
 * connection sends an unfinished request, so the worker that accepts it holds it open, reading; which
 * worker holds which is seen through /proc/net/tcp and the workers' fds. A synchronous worker holds one
 * and cannot accept another, so one connection per worker reaches them all. A threaded or asynchronous
 * worker accepts many: while every connection is held and some worker holds none, more connections are
 * opened (up to MAX_HELD_PER_WORKER per worker). Then the requests are finished and answered. Workers
 * missed are tried again with fresh connections (ATTEMPTS). A worker that never accepts (stopped, stuck)
 * leaves it inconclusive.
 */
export async function reachEveryWorker(
  port: number,
  path: string,
  workerPids: number[],
  signal?: AbortSignal,
  timeoutMs = 5000,
): Promise<ReachResult> {
  const result: ReachResult = { conclusive: false, served: [], statusCodes: {}, errors: 0 };
  const served = new Set<number>();
  let allAnswered = true;
  for (let i = 0; i < ATTEMPTS && served.size < workerPids.length; i++) {
    const missing = workerPids.filter((pid) => !served.has(pid));
    const a = await attempt(port, path, workerPids, missing, signal, timeoutMs / ATTEMPTS, result);
    for (const pid of a.holders) served.add(pid);
    allAnswered &&= a.answered;
  }
  result.served = workerPids.filter((pid) => served.has(pid));
  result.conclusive = served.size === workerPids.length && allAnswered;
  return result;
}

/**
 * One attempt: connections held until every worker in `missing` holds one (or the bound), then finished.
 * Status codes and errors are added to `into`; returns the workers that held a connection, and whether
 * every connection was answered.
 */
async function attempt(
  port: number,
  path: string,
  workerPids: number[],
  missing: number[],
  signal: AbortSignal | undefined,
  timeoutMs: number,
  into: ReachResult,
): Promise<{ holders: Set<number>; answered: boolean }> {
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
            into.errors++;
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
  const cap = workerPids.length * MAX_HELD_PER_WORKER;
  try {
    await open(missing.length);
    const deadline = nowMs() + timeoutMs;
    let holders = new Map<number, number>();
    const reached = () => missing.every((pid) => [...holders.values()].includes(pid));
    while (nowMs() < deadline) {
      signal?.throwIfAborted();
      const byClient = acceptedInodes(port);
      const inodes = sockets.map((s) => byClient.get(s.localPort ?? -1)).filter((i): i is number => i !== undefined);
      holders = socketHolders(inodes, workerPids);
      if (reached()) break;
      // Every connection held, and still a worker with none: some worker took several (threads).
      const allHeld = inodes.length === sockets.length && holders.size === sockets.length;
      if (allHeld && sockets.length < cap) {
        const left = missing.filter((pid) => ![...holders.values()].includes(pid)).length;
        await open(Math.min(left, cap - sockets.length));
        continue;
      }
      // At the cap with every connection held: this attempt is over.
      if (allHeld) break;
      await sleep(10);
    }
    for (const s of sockets) s.write('\r\n');
    await within(Promise.all(closed.values()), 10_000, () => undefined);
    for (const [, text] of responses) {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m) into.statusCodes[m[1] as string] = (into.statusCodes[m[1] as string] ?? 0) + 1;
    }
    const answered = [...responses.values()].filter((t) => /^HTTP\/1\.[01] \d{3}/.test(t)).length;
    return { holders: new Set(holders.values()), answered: answered === sockets.length };
  } finally {
    for (const s of sockets) s.destroy();
  }
}
