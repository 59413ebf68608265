import type { WarmupSettings } from '../results/types.js';

/**
 * What a warm-up speaks to a server. A protocol is one module of this folder, registered in
 * registry.ts as a server family is: its name and words, its flags, its piece of the scenario schema,
 * its input checks and error texts, and the load it builds on the wire. The engine names none.
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

/** Called with each answer's status and, when the app sends it, the worker pid header's value. */
export type OnResponse = (status: number, workerPid: string | undefined) => void;

/** What the stages send: a protocol's load on the wire. */
export interface LoadGenerator {
  /**
   * `amount` requests as a steady flow: at most `connections` in flight, each on a connection of its own,
   * a new one opened as soon as one is answered (as `hey -c N` sends them): a server that buffers every
   * connection it accepts answers a burst with a larger heap (docs/method.md, "How the requests arrive").
   */
  flow(url: string, settings: WarmupSettings, amount: number, onResponse: OnResponse, signal?: AbortSignal): Promise<BatchResult>;
  /** Holds one request per worker open until each worker holds one, then answers them (protocols/http/reach.ts). */
  reach(port: number, path: string, workerPids: number[], signal?: AbortSignal): Promise<ReachResult>;
  /** A request is a unit of work the load sizes itself (a command's run): the soak runs one at a time. */
  serial?: boolean;
  /**
   * A closed loop of `connections` for `durationMs` (the throughput phase): each sends its next request as soon
   * as its last is answered. Resolves with what was answered; a stopped signal ends it early, marked `cut`.
   * Absent where a request is not the unit of work (a command's warm-up).
   */
  sustain?(url: string, settings: WarmupSettings, o: SustainOptions, signal?: AbortSignal): Promise<SustainResult>;
}

export interface SustainOptions {
  connections: number;
  durationMs: number;
}

/** What a closed loop did: the load's side of the throughput phase (stages/throughput.ts records it). */
export interface SustainResult {
  client: 'autocannon' | 'lanes';
  keepAlive: boolean;
  requests: number;
  sent: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationMs: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  cut: boolean;
}

/** Where a request goes: a loopback port, or the Unix socket a server listens on. */
export interface Target {
  port: number;
  socket?: string;
}

/** One answered request. */
export interface Answer {
  status: number;
  /** The worker pid header's value, when the settings name one and the answer carries it. */
  workerPid: string | undefined;
  /** The body ended when the server closed the connection (no Content-Length, not chunked). */
  closeDelimited?: boolean;
}

/** A request that got no answer in time: a timeout, not an error. */
export class NoAnswerError extends Error {}

/**
 * The seam under every protocol, as hyperfine's Executor: one request on a connection of its own, a
 * closed loop, held connections, a probe, a command run. The real wire is sockets and processes
 * (registry.ts); unit tests pass a scripted world, and the protocols' lanes above it run as in production.
 */
export interface Wire {
  /** One request of `protocol` on a connection of its own; throws NoAnswerError on timeout, another error else. */
  exchange(protocol: string, target: Target, settings: WarmupSettings, signal: AbortSignal): Promise<Answer>;
  /** One request of `protocol`, for readiness. */
  probe(protocol: string, target: Target, settings: WarmupSettings): Promise<ProbeResult>;
  /**
   * The throughput phase through autocannon: `connections` kept-alive connections for `durationMs`. Used only
   * where `keepsAlive` said the server keeps a connection and its answers carry their length.
   */
  sustain(url: string, settings: WarmupSettings, o: SustainOptions, signal?: AbortSignal): Promise<SustainResult>;
  /** One HTTP GET that says `Connection: close`, read until the close: the throughput phase where autocannon is not used. */
  closing(target: Target, path: string, signal: AbortSignal): Promise<Answer>;
  /** One HTTP GET on a kept-alive connection: does the server keep it open after answering, with a length or chunks? */
  keepsAlive(port: number, path: string): Promise<boolean>;
  /** HTTP's held requests, one per worker (protocols/http/reach.ts). */
  reach(port: number, path: string, workerPids: number[], signal?: AbortSignal): Promise<ReachResult>;
  /** The body of one HTTP GET (trimmed), or undefined without an answer in time: what a reload's app answers. */
  body(port: number, path: string): Promise<string | undefined>;
  /** Runs a warm-up command to its end: what it printed, and how long it took. */
  command(run: CommandRun, signal?: AbortSignal): Promise<{ stdout: string; durationMs: number }>;
}

/** A warm-up command as it is run: placeholders filled, the variant's environment. */
export interface CommandRun {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

/** A protocol's real client, under the wire. */
export interface Client {
  exchange(target: Target, settings: WarmupSettings, signal: AbortSignal): Promise<Answer>;
  probe(target: Target, settings: WarmupSettings): Promise<ProbeResult>;
}

/** A flag a protocol adds to `run`, `sweep` and `calibrate` (flags.ts reads it as its own). */
export interface ProtocolFlag {
  readonly type: 'string';
  readonly nargs: 1;
  readonly describe: string;
}

/** What a protocol knows of an ad-hoc scenario when it reads its flags. */
export interface AdhocContext {
  cwd: string;
  /** The family's server speaks this protocol by default. */
  speaks: boolean;
  /** The family's name, and its first --command as given. */
  family: string;
  command: string;
  /** The Unix socket the server's configuration listens on, if any. */
  socket(): string | undefined;
}

/** What the scenario's `warmup` becomes for one protocol: the settings it adds, checked. */
export type Fail = (field: string, value: unknown, fix: string) => never;

export interface WarmupProtocol {
  /** The scenario's `warmup.protocol` value that selects it (`command` is selected by `warmup.command`). */
  name: string;
  /** The words that name it in text: the leak test holds them to its module, the registry and the families that speak it. */
  names: string[];
  /** Its piece of the scenario schema's `warmup` object: the properties it adds, JSON Schema. */
  schema: Record<string, object>;
  /** What `warmup.protocol` says of it in the schema. */
  describe: string;
  /** The flags it adds to the commands that build a scenario from --command. */
  flags: Readonly<Record<string, ProtocolFlag>>;
  /**
   * The warm-up settings it adds for an ad-hoc scenario (--command): from its flags, or because the family's
   * server speaks it by default (`required`); undefined when it does not apply.
   */
  fromFlags?(values: Record<string, unknown>, o: AdhocContext): Partial<WarmupSettings> | undefined;
  /** Checks and completes a scenario's warm-up settings for it (paths resolved against the app folder). */
  check?(warmup: WarmupSettings, cwd: string, fail: Fail): void;
  /** True when readiness watches a loopback port (false: a Unix socket, or no server socket at all). */
  watchesPort(settings: WarmupSettings): boolean;
  /** The real client (what the real wire calls): one request on a connection of its own, and a readiness probe. */
  client?: Client;
  /** The load it sends, built on the wire. */
  load(settings: WarmupSettings, wire: Wire, run: { cwd: string; env: Record<string, string> }): LoadGenerator;
  /** The one-line error when a port answers, but not in this protocol. */
  wrongAnswer(command: string, port: number): string;
  /** The one-line error when every answer says the input is bad (a script the server cannot find); undefined when not. */
  refused?(settings: WarmupSettings, requests: number, statusCodes: Record<string, number>): string | undefined;
}
