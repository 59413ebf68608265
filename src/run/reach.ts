import { connect, type Socket } from 'node:net';
import { nowMs, sleep } from '../clock.js';
import { acceptedInodes, socketHolders } from '../proc/sockets.js';

export interface ReachResult {
  /** True when every worker accepted exactly one of the held requests and answered it. */
  conclusive: boolean;
  /** Workers that accepted a held request and answered it. */
  served: number[];
  statusCodes: Record<string, number>;
  errors: number;
}

/**
 * Makes every worker serve one request, and knows which one did, without any help from the app:
 * one connection per worker sends an unfinished request, so a synchronous worker that accepts it
 * blocks reading and cannot accept another; once every connection is held by a distinct worker
 * (seen through /proc/net/tcp and the workers' fds), the requests are finished and answered.
 * Workers that accept many connections at once (threads, async) make it inconclusive.
 */
export async function reachEveryWorker(
  port: number,
  path: string,
  workerPids: number[],
  signal?: AbortSignal,
  timeoutMs = 3000,
): Promise<ReachResult> {
  const result: ReachResult = { conclusive: false, served: [], statusCodes: {}, errors: 0 };
  const sockets: Socket[] = [];
  const responses = new Map<Socket, string>();
  const closed = new Map<Socket, Promise<void>>();
  try {
    for (let i = 0; i < workerPids.length; i++) {
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
    }
    await Promise.all(sockets.map((s) => (s.localPort ? Promise.resolve() : new Promise((r) => s.once('connect', r)))));
    const deadline = nowMs() + timeoutMs;
    let holders = new Map<number, number>();
    while (nowMs() < deadline) {
      signal?.throwIfAborted();
      const byClient = acceptedInodes(port);
      const inodes = sockets.map((s) => byClient.get(s.localPort ?? -1)).filter((i): i is number => i !== undefined);
      if (inodes.length === sockets.length) {
        holders = socketHolders(inodes, workerPids);
        if (holders.size === sockets.length) break;
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
    result.conclusive = distinct.size === workerPids.length && holders.size === sockets.length && answered === sockets.length;
    return result;
  } finally {
    for (const s of sockets) s.destroy();
  }
}
