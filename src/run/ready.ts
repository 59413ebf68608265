import { request } from 'node:http';
import { nowMs } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { cpuState, listeningInodes, portOwner, socketOwner } from '../proc/sockets.js';
import { ppidOf, withDescendants } from '../proc/tree.js';
import type { ServerAdapter } from '../servers/adapters.js';
import type { LaunchedServer } from './launch.js';

export interface ReadyOptions {
  port: number;
  path: string;
  workers: number;
  timeoutMs: number;
  pollMs?: number;
}

export interface ReadyRecord {
  /** Time from launch to ready, in milliseconds. */
  bootMs: number;
  workerPids: number[];
}

/** One HTTP GET to loopback; true for any answer, false for no answer yet. */
export function probe(port: number, path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolveProbe(true));
      res.on('error', () => resolveProbe(true));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveProbe(false));
    req.end();
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A worker still importing its app burns CPU; an idle one sleeps in select()/accept().
const IDLE_CPU_NS_PER_POLL = 3_000_000;

export function serverDied(server: LaunchedServer, when: string): MemcompareError {
  const lines = server.lastLines();
  return new MemcompareError(
    'SERVER_DIED',
    `--command ${JSON.stringify(server.argv.join(' '))}: the server exited ${when}; its last output is below (run with --show-output to see all of it)`,
    { detail: lines.length > 0 ? lines.map((l) => `  | ${l}`).join('\n') : '  | (no output)' },
  );
}

/**
 * Waits until the server is ready to be warmed: its own process tree listens on the port, it answers
 * HTTP, the expected number of workers exists and every worker is idle (has finished loading the app).
 * Polls; never sleeps a fixed time. Stops at once if the server dies.
 */
export async function waitReady(
  server: LaunchedServer,
  adapter: ServerAdapter,
  o: ReadyOptions,
  signal?: AbortSignal,
): Promise<ReadyRecord> {
  const started = nowMs();
  const poll = o.pollMs ?? 50;
  let answered = false;
  let lastCpu = new Map<number, number>();
  let idleStreak = 0;
  const deadline = started + o.timeoutMs;
  while (true) {
    signal?.throwIfAborted();
    if (server.hasExited()) throw serverDied(server, 'during boot');
    const tree = withDescendants([server.pid]);
    for (const pid of tree) server.knownPids.add(pid);
    if (!answered) {
      const inodes = listeningInodes(o.port);
      if (inodes.size > 0) {
        if (socketOwner(inodes, tree) === undefined) {
          // Someone listens, and it is not our server (it may not have bound yet, or lost the race).
          const foreign = portOwner(o.port);
          if (foreign !== undefined && !tree.includes(foreign)) {
            throw new MemcompareError(
              'PORT_TAKEN',
              `port ${o.port}: already in use by pid ${foreign}, not by the launched server; stop that process or let memcompare pick the port ({port})`,
            );
          }
        } else {
          answered = await probe(o.port, o.path);
        }
      }
    }
    if (answered) {
      // One read of each process per poll: its parent (role) and its CPU time and state (idle).
      const workers: number[] = [];
      const cpu = new Map<number, number>();
      let busy = false;
      for (const pid of tree) {
        if (adapter.roleOf(pid, ppidOf(pid), server.pid) !== 'worker') continue;
        const s = cpuState(pid);
        if (!s) continue;
        workers.push(pid);
        cpu.set(pid, s.cpuNs);
        const before = lastCpu.get(pid);
        if (before === undefined || s.cpuNs - before > IDLE_CPU_NS_PER_POLL || s.state === 'R' || s.state === 'D') busy = true;
      }
      const idle = !busy && workers.length >= o.workers;
      lastCpu = cpu;
      idleStreak = idle ? idleStreak + 1 : 0;
      if (idleStreak >= 2) {
        if (workers.length > o.workers) {
          throw new MemcompareError(
            'BAD_ARGUMENT',
            `--workers ${o.workers}: the server runs ${workers.length} workers; pass --workers ${workers.length} or give the command {workers}`,
          );
        }
        return { bootMs: nowMs() - started, workerPids: workers };
      }
    }
    if (nowMs() > deadline) {
      const what = answered ? `only ${lastCpu.size} of ${o.workers} workers became ready` : `port ${o.port} never answered HTTP`;
      throw new MemcompareError(
        'SERVER_NOT_READY',
        `--command ${JSON.stringify(server.argv.join(' '))}: not ready after ${Math.round(o.timeoutMs / 1000)} s (${what}); check --workers and the server's output (--show-output), or raise bootTimeoutSeconds`,
        {
          detail: server
            .lastLines()
            .map((l) => `  | ${l}`)
            .join('\n'),
        },
      );
    }
    await delay(poll);
  }
}
