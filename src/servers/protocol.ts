import type { WarmupSettings } from '../results/types.js';

/**
 * What a warm-up speaks to a server, as the seams the engine calls: a readiness probe and a load
 * generator. HTTP's live in run/ (autocannon); a family whose server speaks another protocol brings
 * its own client in its folder and declares it as its `protocol`.
 */

export type ProbeResult = 'answered' | 'refused' | 'no-answer' | 'wrong-protocol';

export interface BatchResult {
  /** Requests answered. */
  requests: number;
  sent: number;
  errors: number;
  timeouts: number;
  /** Response times, milliseconds. */
  latenciesMs: number[];
}

export interface ReachResult {
  /** True when every worker accepted at least one of the held requests, and every request was answered. */
  conclusive: boolean;
  /** Workers that accepted a held request and answered it. */
  served: number[];
  statusCodes: Record<string, number>;
  errors: number;
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
  /**
   * `amount` requests as a steady flow: at most `connections` in flight, each on a connection of its own,
   * a new one opened as soon as one is answered (as `hey -c N` sends them). Without it, the warm-up sends
   * its rounds as batches of `connections` opened at once, which a server that buffers every connection it
   * accepts answers with a larger heap (docs/method.md, "How the requests arrive").
   */
  flow?(
    url: string,
    settings: WarmupSettings,
    amount: number,
    onResponse: (status: number, workerPid: string | undefined) => void,
    signal?: AbortSignal,
  ): Promise<BatchResult>;
  /** Holds one request per worker open until each worker holds one, then answers them (run/reach.ts). */
  reach(port: number, path: string, workerPids: number[], signal?: AbortSignal): Promise<ReachResult>;
}

/** A warm-up protocol other than HTTP, declared by the family whose server speaks it. */
export interface WarmupProtocol {
  /** The scenario's `warmup.protocol` value that selects it. */
  name: string;
  /** The probe and the load that replace HTTP's, for the script a scenario names and the Unix socket the server listens on, if any. */
  seams(script: string, socket?: string): { probe: (port: number, path: string) => Promise<ProbeResult>; load: LoadGenerator };
  /** The one-line error when every answer says the input is bad (a script the server cannot find); undefined when not. */
  refused(script: string, requests: number, statusCodes: Record<string, number>): string | undefined;
}
