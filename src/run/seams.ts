import type { Clock } from '../clock.js';
import type { ForeignSharers } from '../proc/sharers.js';
import { listeningInodes, socketOwner } from '../proc/sockets.js';
import { type CpuState, cpuState } from '../proc/stat.js';
import { listPids, withDescendants } from '../proc/tree.js';
import type { Wire } from '../protocols/protocol.js';
import type { ContainerRecord, HostInfo, MappingBreakdown, ProcessRecord, Role, SharedConnection, SoftwareInfo } from '../results/types.js';
import type { ServerFamily } from '../servers/family.js';
import type { EarlyImports } from './early-imports.js';
import type { ImportProbe, InheritedEnv } from './import-probe.js';
import type { TreeSample } from './tree-sample.js';

export type { BatchResult, LoadGenerator, Wire } from '../protocols/protocol.js';

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
};

/** A booted server as the run stages see it (the real one is a LaunchedServer, launch.ts). */
export interface ServerHandle {
  pid: number;
  argv: string[];
  /** Every pid seen in its tree, so teardown can check each one is gone. */
  knownPids: Set<number>;
  /** The launched process is memcompare's subreaper (run/subreaper.ts), the server its child: not measured. */
  wrapped?: boolean;
  hasExited(): boolean;
  /** The launched process's exit code (null while it runs or when a signal ended it). */
  exitCode(): number | null;
  lastLines(n?: number): string[];
  /** Everything it printed so far (bounded). */
  output(): string;
  /** Calls `listener` with each piece of output as it arrives; returns the unsubscribe. */
  onOutput?(listener: (text: string) => void): () => void;
}

export interface LaunchRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Copy the server's output to this stream as it arrives. */
  echo?: NodeJS.WritableStream;
  /** The file the server writes its errors to (its family reads it from its configuration): what it adds during this boot is quoted with its output. */
  errorLog?: string;
  /** Run it under a subreaper (run/subreaper.ts): its family's supervisor daemonizes, and must stay in the tree. */
  subreaper?: boolean;
  /** Folders of the run's own (its configuration, the family's pid file and log): removed by the guard if memcompare dies unstopped. */
  folders?: string[];
}

/** Starting and stopping servers: real processes in the run, scripted ones in unit tests. */
export interface Launcher {
  /** A free loopback port for `{port}`. */
  freePort(): Promise<number>;
  /** Throws PORT_TAKEN when a process already listens on the port. */
  assertPortFree(port: number): void;
  /** Every pid on the host now (to tell, after a daemonizing launch, what is new). */
  listPids(): number[];
  launch(request: LaunchRequest): Promise<ServerHandle>;
  /**
   * The family's stop signal, a bounded wait (the family's, or `boundMs`: short when memcompare is
   * interrupted), then SIGKILL; resolves when nothing of the tree is left.
   */
  stop(server: ServerHandle, family: ServerFamily, boundMs?: number): Promise<{ forced: boolean; ms: number }>;
  /** Sends a signal to the server's master (a reload). */
  signal(server: ServerHandle, signal: NodeJS.Signals): void;
  /** SIGKILL to every server still running, at once (an interrupt that cannot wait for a graceful stop). */
  killAll(): void;
  /** Processes a daemonizing launch left in sessions of their own (roots), holding the port. */
  findEscapees(argv: readonly string[], before: ReadonlySet<number>, port: number): Promise<number[]>;
  /** Stops escaped processes; returns every pid that was stopped. */
  stopEscapees(roots: number[], family: ServerFamily): Promise<number[]>;
  /** Runs a configuration test command (the family's configTestCommand), bounded; undefined when it cannot be run. */
  configTest?(argv: string[], cwd: string): { ok: boolean; output: string } | undefined;
}

/** What is read of a server's memory: its tree's snapshot, its full smaps, who else maps its executable. */
export interface MemoryView {
  sample(server: ServerHandle, family: ServerFamily): TreeSample;
  breakdown(processes: readonly ProcessRecord[]): MappingBreakdown;
  /** The executable of a process (for the interpreter's version). */
  exe(pid: number): string | undefined;
  /** The memory cgroup of the server's tree (read only); undefined without one. */
  container?(pid: number, tree: ReadonlySet<number>): ContainerRecord | undefined;
  /** Other processes on the host running the server's executable (they share its pages). */
  foreignSharers(rootPid: number, tree: ReadonlySet<number>): ForeignSharers | undefined;
  /** TCP connections a worker holds together with another process of the tree (inherited across the fork). */
  sharedConnections?(roles: ReadonlyMap<number, Role>): SharedConnection[];
  /** One process's USS now (the soak's exit watch), undefined once it is gone. */
  ussOf?(pid: number): number | undefined;
  /** One process's resident anonymous memory now (the routes' peaks: a cheap read, every few ms), undefined once it is gone. */
  anonOf?(pid: number): number | undefined;
  /** The anonymous memory a process still shares (what a worker's exit copies). */
  sharedAnonOf?(pid: number): number | undefined;
}

/** Host metadata, asked once per run. */
export interface HostView {
  info(serverVersionCommand: string[]): Promise<HostInfo>;
  software(exe: string | undefined): Promise<SoftwareInfo | undefined>;
}

/**
 * Everything a whole run touches outside memcompare, as hyperfine's Executor: the engine is given
 * the real one (realRunDeps, engine.ts); test/unit/run/engine.test.ts drives whole runs on scripted ones.
 */
export interface RunDeps {
  clock: Clock;
  /** The import probe of `run --imports` (run/import-probe.ts): its environment, its records, its removal. */
  imports: {
    prepare(inherited: InheritedEnv): ImportProbe;
    early(modules: readonly string[], inherited: InheritedEnv): EarlyImports;
  };
  proc: ProcView;
  /** What the warm-up protocols send on: sockets and processes, or a scripted world. */
  wire: Wire;
  launcher: Launcher;
  memory: MemoryView;
  host: HostView;
}
