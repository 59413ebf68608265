import { listeningInodes, socketOwner } from '../proc/sockets.js';
import { type CpuState, cpuState } from '../proc/stat.js';
import { listPids, withDescendants } from '../proc/tree.js';
import type { WarmupSettings } from '../results/types.js';
import { type ProbeResult, probe } from './http-probe.js';
import type { ReachResult } from './reach.js';

/**
 * The seams of the run stages, as hyperfine's Executor: what they read of /proc and what they send.
 * The engine passes the real ones; unit tests pass scripted process states (test/unit/run/).
 */
export interface ProcView {
  /** The pid and all its descendants, parents first. */
  tree(pid: number): number[];
  /** CPU time, state and parent of a process; undefined once it is gone. */
  cpu(pid: number): CpuState | undefined;
  /** Who listens on a loopback port: nobody, a process of `tree`, or another process (its pid if visible). */
  listener(port: number, tree: readonly number[]): { kind: 'none' } | { kind: 'ours' } | { kind: 'foreign'; pid: number | undefined };
  /** One HTTP GET to the port. */
  probe(port: number, path: string): Promise<ProbeResult>;
}

/** What one batch of requests did. */
export interface BatchResult {
  /** Requests answered. */
  requests: number;
  sent: number;
  errors: number;
  timeouts: number;
  /** Response times, milliseconds. */
  latenciesMs: number[];
}

/** The load generator: autocannon in the real run. */
export interface LoadGenerator {
  /**
   * `amount` requests over as many connections, one request per connection; `onResponse` gets each
   * status code and, when the app sends it, the worker pid header's value.
   */
  batch(
    url: string,
    settings: WarmupSettings,
    amount: number,
    onResponse: (status: number, workerPid: string | undefined) => void,
    signal?: AbortSignal,
  ): Promise<BatchResult>;
  /** Holds one request per worker open until each worker holds one, then answers them (reach.ts). */
  reach(port: number, path: string, workerPids: number[], signal?: AbortSignal): Promise<ReachResult>;
}

export const realProc: ProcView = {
  tree: (pid) => withDescendants([pid]),
  cpu: cpuState,
  listener(port, tree) {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return { kind: 'none' };
    if (socketOwner(inodes, tree) !== undefined) return { kind: 'ours' };
    // A listening socket nobody visible holds is one being opened or closed (a dying master): not foreign.
    const pid = socketOwner(inodes, listPids());
    if (pid === undefined) return { kind: 'none' };
    return tree.includes(pid) ? { kind: 'ours' } : { kind: 'foreign', pid };
  },
  probe,
};
