import { type Clock, realClock } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { probe as httpProbe } from '../protocols/http/probe.js';
import type { ProbeResult } from '../protocols/protocol.js';
import type { ServerFamily } from '../servers/family.js';
import type { LaunchedServer } from './launch.js';
import { portTaken } from './port.js';
import { type ProcView, realProc } from './seams.js';

export interface ReadyOptions {
  port: number;
  path: string;
  /** Expected workers; undefined: detect them (the set unchanged and every worker idle for `detectMs`). */
  workers: number | undefined;
  timeoutMs: number;
  pollMs?: number;
  /** A detected worker set must be unchanged and idle this long (default 1 s). */
  detectMs?: number;
  /** A declared count not reached while the set has been unchanged and idle this long fails (default 3 s). */
  shortfallMs?: number;
  /** Workers that do not count (the old ones, still exiting, after a reload). */
  excludeWorkers?: ReadonlySet<number>;
  /** A pool that listens on no port (a task queue warmed by a command): ready on its workers alone. */
  noPort?: boolean;
  /** The one-line error when the port answers, but not in the warm-up's protocol (its own words). */
  wrongAnswer?: string;
}

export interface ReadyRecord {
  /** Time from launch to ready, in milliseconds. */
  bootMs: number;
  workerPids: number[];
  /** True when the worker count was detected, not declared. */
  detected: boolean;
}

/** What readiness needs of a launched server. */
export type ReadyTarget = Pick<LaunchedServer, 'pid' | 'argv' | 'knownPids' | 'hasExited' | 'lastLines'>;

export interface ReadyDeps {
  proc: ProcView;
  clock: Clock;
  /** One request of the warm-up's protocol to the port (its probe on the wire). */
  probe: (port: number, path: string) => Promise<ProbeResult>;
}

// A worker still importing its app burns CPU; an idle one sleeps in select()/accept().
const IDLE_CPU_NS_PER_POLL = 3_000_000;

export function serverDied(server: Pick<LaunchedServer, 'argv' | 'lastLines'>, when: string): MemcompareError {
  const lines = server.lastLines();
  return new MemcompareError(
    'SERVER_DIED',
    `--command ${JSON.stringify(server.argv.join(' '))}: the server exited ${when}; its last output is below (run with --show-output to see all of it)`,
    { detail: lines.length > 0 ? lines.map((l) => `  | ${l}`).join('\n') : '  | (no output)' },
  );
}

/**
 * Waits until the server is ready to be warmed: its own process tree listens on the port, it answers
 * HTTP, the expected number of workers exists (or, when none is declared, the set of workers stays
 * the same) and every worker is idle (has finished loading the app). Polls; stops at once if the
 * server dies, and early when a declared count is plainly never reached.
 */
export async function waitReady(
  server: ReadyTarget,
  family: ServerFamily,
  o: ReadyOptions,
  signal?: AbortSignal,
  deps: ReadyDeps = { proc: realProc, clock: realClock, probe: (port, path) => httpProbe(port, path) },
): Promise<ReadyRecord> {
  const { proc, clock } = deps;
  const started = clock.now();
  const poll = o.pollMs ?? 50;
  const detectMs = o.detectMs ?? 1000;
  const shortfallMs = o.shortfallMs ?? 3000;
  let lastProbe: ProbeResult | undefined;
  let answered = o.noPort === true;
  let lastCpu = new Map<number, number>();
  let lastSet = '';
  let stillPolls = 0;
  let stillSince = started;
  const deadline = started + o.timeoutMs;
  let listenerDue = started;
  while (true) {
    signal?.throwIfAborted();
    if (server.hasExited()) throw serverDied(server, 'during boot');
    const tree = proc.tree(server.pid);
    for (const pid of tree) server.knownPids.add(pid);
    if (!answered && clock.now() >= listenerDue) {
      const asked = clock.now();
      const listener = proc.listener(o.port, tree);
      // The kernel writes every TCP socket of the host to /proc/net/tcp6 before saying it holds none, and a host
      // after load tests holds tens of thousands (TIME_WAIT): 13 ms a read at 85,000. At most a tenth of the
      // time goes to asking, so the booting server keeps the CPU.
      listenerDue = clock.now() + 9 * (clock.now() - asked);
      // Someone else listens: never warm or measure a foreign server.
      if (listener.kind === 'foreign') throw portTaken(o.port, listener.pid, 'not by the launched server');
      if (listener.kind === 'ours') {
        lastProbe = await deps.probe(o.port, o.path);
        answered = lastProbe === 'answered';
        // The port answers, but not in the protocol asked (an HTTP server where another protocol was expected).
        if (lastProbe === 'wrong-protocol') {
          throw new MemcompareError(
            'BAD_ARGUMENT',
            o.wrongAnswer ??
              `--command ${JSON.stringify(server.argv.join(' '))}: port ${o.port} answers, but not in the warm-up's protocol`,
          );
        }
      }
    }
    const now = clock.now();
    if (answered) {
      // One read of each process per poll: its parent (role) and its CPU time and state (idle).
      const workers: number[] = [];
      const cpu = new Map<number, number>();
      let busy = false;
      for (const pid of tree) {
        const s = proc.cpu(pid);
        if (!s || family.roleOf(pid, s.ppid, server.pid) !== 'worker' || o.excludeWorkers?.has(pid)) continue;
        workers.push(pid);
        cpu.set(pid, s.cpuNs);
        const before = lastCpu.get(pid);
        if (before === undefined || s.cpuNs - before > IDLE_CPU_NS_PER_POLL || s.state === 'R' || s.state === 'D') busy = true;
      }
      const set = [...workers].sort((a, b) => a - b).join(',');
      if (busy || set !== lastSet) {
        stillPolls = 0;
        stillSince = now;
      } else {
        stillPolls++;
      }
      lastCpu = cpu;
      lastSet = set;
      const stillMs = now - stillSince;
      if (o.workers === undefined) {
        if (stillPolls >= 2 && stillMs >= detectMs) return { bootMs: now - started, workerPids: workers, detected: true };
      } else if (stillPolls >= 2 && workers.length >= o.workers) {
        if (workers.length > o.workers) {
          throw new MemcompareError(
            'BAD_ARGUMENT',
            `--workers ${o.workers}: the server runs ${workers.length} workers; pass --workers ${workers.length}, leave --workers out to detect them, or give the command {workers}`,
          );
        }
        return { bootMs: now - started, workerPids: workers, detected: false };
      } else if (stillPolls >= 2 && stillMs >= shortfallMs) {
        throw new MemcompareError(
          'SERVER_NOT_READY',
          workers.length === 0
            ? // None at all: the workers failed to start (an app that raises at load), not a count to pass.
              `--workers ${o.workers}: no worker of the server started in ${(stillMs / 1000).toFixed(1)} s; check its output below (an app that fails to load), or the server's worker setting`
            : `--workers ${o.workers}: the server runs ${workers.length} workers, unchanged and idle for ${(stillMs / 1000).toFixed(1)} s, not ${o.workers}; pass --workers ${workers.length} (or leave it out to detect them), or check the server's worker setting`,
          {
            detail: server
              .lastLines()
              .map((l) => `  | ${l}`)
              .join('\n'),
          },
        );
      }
    }
    if (now > deadline) {
      const what = answered
        ? `only ${lastCpu.size} of ${o.workers ?? 'the'} workers became ready`
        : lastProbe === 'no-answer'
          ? `port ${o.port} accepts connections but GET ${o.path} has not answered`
          : `port ${o.port} never answered HTTP`;
      throw new MemcompareError(
        'SERVER_NOT_READY',
        `--command ${JSON.stringify(server.argv.join(' '))}: not ready after ${Math.round(o.timeoutMs / 1000)} s (${what}); check the app and the server's output (--show-output), warmup.path, or raise bootTimeoutSeconds`,
        {
          detail: server
            .lastLines()
            .map((l) => `  | ${l}`)
            .join('\n'),
        },
      );
    }
    await clock.sleep(poll, signal);
  }
}
