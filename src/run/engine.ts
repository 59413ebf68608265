import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { realClock } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { hostInfo, softwareInfo } from '../host.js';
import { containerRecord } from '../proc/cgroup.js';
import { exeOf, foreignSharers } from '../proc/sharers.js';
import { sharedAnonymous, ussNow } from '../proc/smaps.js';
import { listPids } from '../proc/tree.js';
import { adviseRecycling, freshWorkerUss, rssBytesPerRequest, servedBeforeSoak } from '../results/lifetime.js';
import { summarize } from '../results/summary.js';
import {
  type HostInfo,
  RESULTS_SCHEMA_VERSION,
  type ReloadRecord,
  type ResultsDocument,
  type RunRecord,
  type SoakRecord,
  type SoftwareInfo,
  type SteadyRecord,
  type VariantResult,
  type WarmupResult,
  type WorkerCountSource,
} from '../results/types.js';
import { expandCommand, type Scenario, type Variant } from '../scenario/scenario.js';
import { familyNamed, familyPackages, protocolNamed, type ServerFamily } from '../servers/registry.js';
import { readBreakdown } from './breakdown.js';
import { commandLoad } from './command-load.js';
import { daemonizedError, findEscapees, stopEscapees } from './daemon.js';
import { diagnose } from './diagnose.js';
import { freeLoopbackPort, type LaunchedServer, launch } from './launch.js';
import { assertPortFree } from './port.js';
import { type ReadyRecord, serverDied, waitReady } from './ready.js';
import { copyApp, measureReload } from './reload.js';
import { type RunDeps, realProc, type ServerHandle } from './seams.js';
import { checkServices, type RunningService, startServices, stopServices } from './services.js';
import { settle } from './settle.js';
import { type SoakContext, soak } from './soak.js';
import { STEADY, warmUntilSteady } from './steady.js';
import { killAllNow, stopServer } from './stop.js';
import { sampleTree, type TreeSample } from './tree-sample.js';
import { autocannonLoad, loadAutocannon, sendRound, warmUp } from './warm.js';

/** How long a server gets for its own stop when memcompare is interrupted, before SIGKILL. */
const INTERRUPT_STOP_MS = 600;

/** The real world: processes, /proc, autocannon, the monotonic clock, systeminformation. */
export const realRunDeps: RunDeps = {
  clock: realClock,
  proc: realProc,
  load: autocannonLoad,
  launcher: {
    freePort: freeLoopbackPort,
    assertPortFree,
    listPids,
    launch: (request) => {
      setImmediate(loadAutocannon); // autocannon loads while the server boots
      return launch(request);
    },
    stop: (server, adapter, boundMs) => stopServer(server as LaunchedServer, adapter, boundMs),
    killAll: killAllNow,
    findEscapees: (argv, before, port) => findEscapees(argv, before, port),
    stopEscapees: (roots, adapter) => stopEscapees(roots, adapter),
    configTest: (argv, cwd) => {
      const r = spawnSync(argv[0] as string, argv.slice(1), { cwd, encoding: 'utf8', timeout: 10_000 });
      return r.error ? undefined : { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
    },
  },
  memory: {
    sample: sampleTree,
    breakdown: readBreakdown,
    exe: exeOf,
    foreignSharers,
    container: (pid, tree) => containerRecord(pid, tree),
    ussOf: (pid) => ussNow(pid),
    sharedAnonOf: (pid) => sharedAnonymous(pid),
  },
  host: { info: hostInfo, software: (exe) => softwareInfo(exe, familyPackages()) },
};

export interface RunOptions {
  /** Overrides the scenario's run count. */
  runs?: number;
  /** The adapter to use instead of the scenario's server family. */
  adapter?: ServerFamily;
  /** The output sink: called with the document after every run, and at the end (persist it here). */
  onUpdate?: (doc: ResultsDocument) => void;
  /** One line per stage, for a progress display. */
  onProgress?: (line: string) => void;
  /** Called at every soak sample (a progress bar on a terminal). */
  onSoakTick?: (
    tag: string,
    state: { elapsedMs: number; durationMs: number; requests: number; totalPssBytes: number; peakPssBytes: number },
  ) => void;
  /** Where to copy the server's output (--show-output). */
  echo?: NodeJS.WritableStream;
  /** A per-worker USS limit: after a soak, the recycling setting that keeps workers under it. */
  maxWorkerUssBytes?: number;
  /**
   * Asked after the last planned round and after each added one (`run --until-decided`): true adds one
   * more interleaved round of every variant. The caller bounds it (the rounds done are passed).
   */
  moreRuns?: (doc: ResultsDocument, roundsDone: number) => boolean;
  signal?: AbortSignal;
  version?: string;
}

export function variantCommand(
  scenario: Scenario,
  variant: Variant,
  port: number,
  config?: string,
  services?: Record<string, number>,
): string[] {
  const template = variant.command ?? [...scenario.command, ...variant.args];
  const app = variant.cwd ?? scenario.cwd;
  return expandCommand(template, {
    port,
    workers: variant.workers ?? scenario.workers,
    app,
    ...(config ? { config } : {}),
    ...(services ? { services } : {}),
  });
}

/**
 * A scenario's configuration template filled for one run ({port}, {workers}, {app}) into a file of
 * its own: a server whose pool size and listen address live in its configuration file is swept there.
 */
function fillConfig(scenario: Scenario, variant: Variant, port: number): { path: string; remove(): void } | undefined {
  if (!scenario.configTemplate) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'memcompare-config-'));
  const path = join(dir, basename(scenario.configTemplate));
  // {rundir}: this run's own folder, for what a server writes beside its configuration (a pid file, a log).
  const [text] = expandCommand([readFileSync(scenario.configTemplate, 'utf8').replaceAll('{rundir}', dir)], {
    port,
    workers: variant.workers ?? scenario.workers,
    app: variant.cwd ?? scenario.cwd,
  });
  writeFileSync(path, text as string);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A warm-up by command, run with a variant's environment on top of memcompare's. */
function commandLoadFor(
  scenario: Scenario,
  services: Record<string, number>,
): ((env: Record<string, string>) => RunDeps['load']) | undefined {
  const w = scenario.warmup;
  if (!w.command) return undefined;
  const argv = expandCommand(w.command, { port: 0, workers: scenario.workers, app: scenario.cwd, services });
  return (env) => commandLoad({ argv, cwd: scenario.cwd, env, timeoutMs: (w.timeoutSeconds ?? 120) * 1000 });
}

/** The seams a scenario's warm-up protocol needs when it is not HTTP: the family that speaks it brings its probe and load. */
function forProtocol(deps: RunDeps, scenario: Scenario): RunDeps {
  const script = scenario.warmup.script;
  const protocol = protocolNamed(scenario.warmup.protocol);
  if (deps !== realRunDeps || !protocol || !script) return deps;
  const { probe, load } = protocol.seams(script, scenario.warmup.socket);
  return { ...deps, load, proc: { ...deps.proc, probe } };
}

/** Every answer says the input is bad (the protocol's own words: a script the server cannot find): not a measurement. */
function refusedScript(scenario: Scenario, w: WarmupResult): void {
  const refused = protocolNamed(scenario.warmup.protocol)?.refused(scenario.warmup.script ?? '', w.requests, w.statusCodes);
  if (refused !== undefined) throw new MemcompareError('BAD_ARGUMENT', refused);
}

/** A warm-up command must print the pids of the tree's workers: none, or others, is bad input. */
function strangerPids(scenario: Scenario, w: WarmupResult, workers: readonly number[]): void {
  const command = scenario.warmup.command;
  if (!command) return;
  // Pids it printed: the workers' counts, or, when none was a worker, what it printed instead.
  const printed = [...Object.keys(w.requestsPerWorker ?? {}), ...(w.pidHeaderNotWorkers ?? [])].map(Number);
  const shown = JSON.stringify(command.join(' '));
  if (printed.length === 0) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `warmup.command ${shown}: printed no pids; print the pid of the worker that served each unit of work, one per line (os.getpid() in the task)`,
    );
  }
  const strangers = printed.filter((p) => !workers.includes(p));
  if (strangers.length > 0) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `warmup.command ${shown}: printed pids that are not workers of the measured tree (${strangers.slice(0, 5).join(', ')}; workers: ${workers.join(', ')}); print the pid of the worker process that ran each task`,
    );
  }
}

/** What one run of one variant needs. */
interface RunContext {
  scenario: Scenario;
  adapter: ServerFamily;
  variant: Variant;
  /** 1-based run number of this variant. */
  index: number;
  options: RunOptions;
  deps: RunDeps;
  /** `[variant i/n]`, the prefix of every progress line. */
  tag: string;
  /** The companion services' ports, by name ({services.NAME.port}). */
  services: Record<string, number>;
  say: (line: string) => void;
  /** Settles when every process of the previous server is gone (awaited before the warm-up). */
  previousGone: Promise<unknown>;
  /** True while the previous server is still stopping. */
  previousStopping: () => boolean;
  /** The load for a run whose warm-up is a command: it runs with the variant's environment. */
  loadFor?: (env: Record<string, string>) => RunDeps['load'];
}

/** Workers a variant should have: declared, read from its command, or (undefined) detected. */
function expectedWorkers(
  ctx: RunContext,
  argv: string[],
  env: Record<string, string>,
): { count: number | undefined; source: WorkerCountSource } {
  if (ctx.variant.workers !== undefined) return { count: ctx.variant.workers, source: 'declared' };
  if (!ctx.scenario.detectWorkers) return { count: ctx.scenario.workers, source: 'declared' };
  const fromCommand = ctx.adapter.workersFromCommand(argv, { ...process.env, ...env }, ctx.variant.cwd ?? ctx.scenario.cwd);
  return fromCommand === undefined ? { count: undefined, source: 'detected' } : { count: fromCommand, source: 'command' };
}

/** A server booted for one run, with what the later stages need to know of it. */
interface Booted {
  server: ServerHandle;
  port: number;
  argv: string[];
  /** The variant's environment as the server got it (placeholders filled in). */
  env: Record<string, string>;
  expected: { count: number | undefined; source: WorkerCountSource };
  appCopy: { dir: string; remove(): void } | undefined;
  /** The filled configuration of this run, removed when the server has stopped. */
  config: { path: string; remove(): void } | undefined;
}

/** Stage 1, launch: a port, the command filled in, the server started (in a copy of the app for a reload). */
async function bootStage(ctx: RunContext): Promise<Booted & { before: Set<number> }> {
  const { scenario, variant, deps } = ctx;
  const port = scenario.port ?? (await deps.launcher.freePort());
  if (scenario.port === undefined) deps.launcher.assertPortFree(port);
  else await fixedPortFree(ctx, port);
  const config = fillConfig(scenario, variant, port);
  const argv = variantCommand(scenario, variant, port, config?.path, ctx.services);
  const workers = variant.workers ?? scenario.workers;
  const env = Object.fromEntries(
    Object.entries(variant.env).map(([k, v]) => [k, expandCommand([v], { port, workers, services: ctx.services })[0] as string]),
  );
  const expected = expectedWorkers(ctx, argv, env);
  const before = new Set(deps.launcher.listPids());
  // A reload run edits the app: it runs in a copy of the app folder, never in the user's.
  const appCopy = scenario.reload ? copyApp(variant.cwd ?? scenario.cwd) : undefined;
  if (appCopy) env.PYTHONDONTWRITEBYTECODE = '1';
  const cwd = appCopy?.dir ?? variant.cwd ?? scenario.cwd;
  const errorLog = ctx.adapter.errorLogFromCommand?.(argv, cwd);
  const request = { argv, cwd, env, ...(ctx.options.echo ? { echo: ctx.options.echo } : {}), ...(errorLog ? { errorLog } : {}) };
  const server = await deps.launcher.launch(request).catch((error) => {
    appCopy?.remove();
    config?.remove();
    throw error;
  });
  ctx.say(`${ctx.tag} booting pid ${server.pid} on port ${port}: ${argv.join(' ')}`);
  return { server, port, argv, env, expected, appCopy, config, before };
}

/** How long memcompare's own previous server may take to let go of a fixed port (its stop bound, and a margin). */
const PREVIOUS_STOP_MS = 15_000;
/** How long a port may stay taken after every process that held it is gone (a socket closing). */
const PORT_RELEASE_MS = 5000;

/**
 * A port the server takes from its own configuration is the same at every boot: the previous run's server may
 * still be stopping, or its socket closing. Wait (bounded) for memcompare's own previous server to be gone and
 * the port to be free; a port held by anything else is bad input at once.
 */
async function fixedPortFree(ctx: RunContext, port: number): Promise<void> {
  const { deps } = ctx;
  const taken = () => {
    try {
      deps.launcher.assertPortFree(port);
      return undefined;
    } catch (error) {
      return error;
    }
  };
  const first = taken();
  if (first === undefined) return;
  if (!ctx.previousStopping()) throw first;
  ctx.say(`${ctx.tag} port ${port} is the server's own; waiting for the previous server to let it go`);
  await Promise.race([ctx.previousGone.catch(() => {}), deps.clock.sleep(PREVIOUS_STOP_MS, ctx.options.signal)]);
  const deadline = deps.clock.now() + PORT_RELEASE_MS;
  for (;;) {
    const error = taken();
    if (error === undefined) return;
    if (deps.clock.now() >= deadline) throw error;
    await deps.clock.sleep(50, ctx.options.signal);
  }
}

/**
 * Stage 2, ready. A server that daemonized is caught here: its launched process exited 0 (or lost
 * the port to a process outside its tree) and its master went on in a session of its own; it is
 * stopped and reported (the port was free before the launch).
 */
async function readyStage(ctx: RunContext, b: Booted & { before: Set<number> }): Promise<ReadyRecord> {
  const { scenario, adapter, deps } = ctx;
  try {
    return await waitReady(
      b.server,
      adapter,
      {
        port: b.port,
        path: scenario.warmup.path,
        workers: b.expected.count,
        timeoutMs: scenario.bootTimeoutMs,
        // A pool warmed by a command, or one listening on a Unix socket: no loopback port to watch.
        ...(scenario.warmup.command || scenario.warmup.socket ? { noPort: true } : {}),
      },
      ctx.options.signal,
      { proc: deps.proc, clock: deps.clock },
    );
  } catch (error) {
    const code = error instanceof MemcompareError ? error.code : undefined;
    const exitedOk = b.server.exitCode() === 0 || code === 'PORT_TAKEN';
    if (exitedOk && (code === 'SERVER_DIED' || code === 'PORT_TAKEN')) {
      const escaped = await deps.launcher.findEscapees(b.argv, b.before, b.port);
      if (escaped.length > 0) throw daemonizedError(b.argv, await deps.launcher.stopEscapees(escaped, adapter));
    }
    // A server that died at boot and has a configuration test (its family's configTestCommand): a failing test is bad input.
    if (code === 'SERVER_DIED' && adapter.configTestCommand) {
      const test = deps.launcher.configTest?.(adapter.configTestCommand(b.argv), ctx.variant.cwd ?? scenario.cwd);
      if (test && !test.ok) {
        const lines = test.output.split('\n').filter((l) => l.trim() !== '');
        throw new MemcompareError(
          'BAD_ARGUMENT',
          `--command ${JSON.stringify(b.argv.join(' '))}: the server's configuration fails its own check (${adapter.configTestCommand(b.argv).slice(0, 1).join(' ')} … ${adapter.configTestCommand(b.argv).at(-1)}): ${lines.at(-2) ?? lines.at(-1) ?? 'no output'}; fix the configuration`,
          {
            detail: lines
              .slice(-8)
              .map((l) => `  | ${l}`)
              .join('\n'),
          },
        );
      }
    }
    throw error;
  }
}

const statusLine = (w: WarmupResult) =>
  Object.entries(w.statusCodes)
    .map(([c, n]) => `[${c}] ${n}`)
    .join(' ');

/**
 * Stage 3b (warmup.until = steady, the default): rounds of growing size until the workers' private memory
 * grows less than a threshold per request (run/steady.ts) — a real app's workers keep growing for hundreds
 * of requests (caches, lazy loading), and are measured warm, not at an arbitrary count.
 */
async function steadyStage(ctx: RunContext, b: Booted, ready: ReadyRecord, first: WarmupResult): Promise<SteadyRecord> {
  const { deps, scenario } = ctx;
  const record = await warmUntilSteady(
    {
      requests: scenario.warmup.requests,
      connections: scenario.warmup.connections,
      workers: ready.workerPids.length,
      servedSoFar: first.requests + (first.topUp?.requests ?? 0),
    },
    {
      clock: deps.clock,
      look: () => {
        const s = deps.memory.sample(b.server, ctx.adapter);
        const ussByPid = new Map(s.processes.filter((p) => p.role === 'worker').map((p) => [p.pid, p.ussBytes]));
        return { ussByPid, totalPssBytes: s.snapshot.totals.pssBytes };
      },
      round: async (amount) => {
        const settings = { ...scenario.warmup, connections: Math.min(scenario.warmup.connections, STEADY.inFlight) };
        const r = await sendRound(b.port, settings, amount, ctx.options.signal, deps.load);
        return Object.keys(r.perWorker).length > 0 ? { requests: r.requests, perWorker: r.perWorker } : { requests: r.requests };
      },
    },
  );
  const kib = (x: number) => (x / 1024).toFixed(1);
  ctx.say(
    `${ctx.tag} warm-up to a steady state: ${record.rounds} more rounds in ${(record.durationMs / 1000).toFixed(1)} s, ${record.requestsPerWorker.toFixed(0)} requests per worker; ${
      record.reached
        ? `steady (${kib(record.lastBytesPerRequest)} KiB per request)`
        : record.linear
          ? `the workers grow ${kib(record.lastBytesPerRequest)} KiB per request (not waited for)`
          : `not steady at the bound (${kib(record.lastBytesPerRequest)} KiB per request)`
    }`,
  );
  return record;
}

/** Stage 4 (optional), soak: load kept on while a budgeted sampler records the tree. */
/** The soak's exit watch: the family's recycling line, heard as it is printed, and the reads it makes. */
function exitWatch(ctx: RunContext, b: Booted): Pick<SoakContext, 'onRecycleLine' | 'ussOf' | 'sharedAnonOf'> {
  const line = ctx.adapter.log.recycled;
  const { ussOf, sharedAnonOf } = ctx.deps.memory;
  const listen = b.server.onOutput?.bind(b.server);
  return {
    ...(line && ussOf && listen
      ? {
          onRecycleLine: (cb: () => void) =>
            listen((text) => {
              for (const _ of text.matchAll(new RegExp(line.source, 'g'))) cb();
            }),
          ussOf,
        }
      : {}),
    ...(sharedAnonOf ? { sharedAnonOf } : {}),
  };
}

async function soakStage(
  ctx: RunContext,
  b: Booted,
  sample: () => TreeSample,
  expectedWorkers: number,
  warmup: WarmupResult,
): Promise<SoakRecord> {
  const settings = ctx.scenario.soak as NonNullable<Scenario['soak']>;
  const soaked = await soak({
    port: b.port,
    path: ctx.scenario.warmup.path,
    settings,
    load: ctx.deps.load,
    clock: ctx.deps.clock,
    sample,
    alive: () => {
      if (b.server.hasExited()) throw serverDied(b.server, 'during the soak');
    },
    onTick: (st) => ctx.options.onSoakTick?.(ctx.tag, { ...st, durationMs: settings.durationSeconds * 1000 }),
    ...(ctx.scenario.warmup.workerPidHeader ? { workerPidHeader: ctx.scenario.warmup.workerPidHeader } : {}),
    expectedWorkers,
    recycledSoFar: () => (ctx.adapter.log.recycled ? (b.server.output().match(ctx.adapter.log.recycled) ?? []).length : 0),
    ...exitWatch(ctx, b),
    ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
  });
  const limit = ctx.options.maxWorkerUssBytes;
  if (limit !== undefined && soaked.growth) {
    const births = (soaked.replacements ?? []).map((r) => r.newUssAtBirthBytes).filter((x): x is number => x !== null);
    const before = servedBeforeSoak(warmup, expectedWorkers);
    const freshUss = freshWorkerUss(soaked.timeline, soaked.growth.bytesPerRequest, births, before);
    const rssSlope = rssBytesPerRequest(soaked.timeline);
    const rss = {
      freshBytes: freshWorkerUss(soaked.timeline, rssSlope, [], before, 'rssBytes'),
      bytesPerRequest: rssSlope,
      workers: expectedWorkers,
    };
    soaked.advice = adviseRecycling(ctx.adapter, soaked.growth, freshUss, limit, settings.durationSeconds, soaked.exitCopy, rss);
  }
  ctx.say(
    `${ctx.tag} soak: ${soaked.requests} responses in ${(soaked.durationMs / 1000).toFixed(1)} s, peak total PSS ${(soaked.peakTotalPssBytes / 1048576).toFixed(1)} MiB, ${soaked.samples} samples every ${soaked.achievedIntervalMs.toFixed(0)} ms (sampler ${soaked.samplerCpuPercent.toFixed(1)}% of a core); settling`,
  );
  return soaked;
}

/**
 * Stages 5–6, settle and sample. A worker that died and was replaced since the warm-up has served
 * nothing: measuring it would understate memory. The new ones are warmed and the tree settled again
 * (bounded), and the run says so.
 */
async function settleStage(
  ctx: RunContext,
  b: Booted,
  ready: ReadyRecord,
  warmup: WarmupResult,
  sampleNow: () => TreeSample,
): Promise<{ sample: TreeSample; settleRecord: RunRecord['settle']; warmup: WarmupResult; replaced: number[] }> {
  const { scenario, deps } = ctx;
  const signal = ctx.options.signal;
  const target = { server: b.server, sample: sampleNow };
  const workerCount = ready.workerPids.length;
  let { sample, record } = await settle(target, workerCount, scenario.settle, signal, deps.clock);
  ctx.say(`${ctx.tag} ${record.settled ? 'settled' : 'did not settle'} after ${record.samples} samples`);
  const warmed = new Set(ready.workerPids);
  const replaced: number[] = [];
  for (let retry = 0; retry < 2; retry++) {
    const fresh = sample.processes.filter((p) => p.role === 'worker' && !warmed.has(p.pid)).map((p) => p.pid);
    if (fresh.length === 0) break;
    replaced.push(...fresh);
    ctx.say(`${ctx.tag} workers ${fresh.join(', ')} are new since the warm-up; warming them`);
    const workerPids = sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
    warmup = await warmUp(b.port, scenario.warmup, workerPids, signal, { load: deps.load, proc: deps.proc });
    for (const pid of workerPids) warmed.add(pid);
    ({ sample, record } = await settle(target, workerCount, scenario.settle, signal, deps.clock));
  }
  return { sample, settleRecord: record, warmup, replaced };
}

/** Stage 7 (optional), reload: edit the app copy, signal, wait for new workers, ask again. */
async function reloadStage(ctx: RunContext, b: Booted, sample: TreeSample): Promise<ReloadRecord> {
  const { scenario } = ctx;
  const measured = await measureReload({
    server: b.server,
    adapter: ctx.adapter,
    port: b.port,
    settings: scenario.reload as NonNullable<Scenario['reload']>,
    appDir: (b.appCopy as { dir: string }).dir,
    workerPids: sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid),
    warmup: scenario.warmup,
    settle: scenario.settle,
    totalPssBeforeBytes: sample.snapshot.totals.pssBytes,
    deps: ctx.deps,
    ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
    say: (line) => ctx.say(`${ctx.tag} ${line}`),
  });
  const r = measured.record;
  ctx.say(
    `${ctx.tag} reload: ${r.workersReplaced} new workers in ${(r.reloadMs / 1000).toFixed(1)} s answer ${JSON.stringify(r.after.slice(0, 40))} (before: ${JSON.stringify(r.before.slice(0, 40))}): ${r.stale ? 'STALE' : 'fresh'}`,
  );
  return r;
}

/**
 * One run of one variant: launch → ready → warm → (soak) → settle → sample → (reload) → stop.
 * The previous server may still be shutting down while this one boots (preloaded Python workers take
 * seconds to exit); `previousGone` is awaited before the warm-up, so no dying process shares pages
 * with, or takes CPU from, what is measured. Returns with the server stopping: `stopped` settles
 * when all of its processes are gone.
 */
async function measureOnce(given: RunContext): Promise<{ record: RunRecord; stopped: Promise<unknown>; exe: string | undefined }> {
  const startedAt = new Date().toISOString();
  const t0 = given.deps.clock.now();
  const b = await bootStage(given);
  // A warm-up command sees the variant's environment (a broker's URL, the services' ports), as the server does.
  const ctx = given.loadFor ? { ...given, deps: { ...given.deps, load: given.loadFor(b.env) } } : given;
  const { scenario, adapter, variant, index, deps } = ctx;
  const signal = ctx.options.signal;
  const { server, port } = b;
  try {
    const ready = await readyStage(ctx, b);
    const exe = deps.memory.exe(server.pid);
    await ctx.previousGone;
    const workerCount = ready.workerPids.length;
    ctx.say(
      `${ctx.tag} ready in ${(ready.bootMs / 1000).toFixed(1)} s with ${workerCount} workers${ready.detected ? ' (detected)' : ''}; warming up`,
    );
    const firstWarmup = await warmUp(port, scenario.warmup, ready.workerPids, signal, { load: deps.load, proc: deps.proc });
    refusedScript(scenario, firstWarmup);
    strangerPids(scenario, firstWarmup, ready.workerPids);
    if (scenario.warmup.until === 'steady') firstWarmup.steady = await steadyStage(ctx, b, ready, firstWarmup);
    const sampleNow = () => deps.memory.sample(server, adapter);
    let soaked: SoakRecord | undefined;
    if (scenario.soak) {
      ctx.say(
        `${ctx.tag} warm-up: ${firstWarmup.requests} responses ${statusLine(firstWarmup)}; soaking for ${scenario.soak.durationSeconds} s`,
      );
      soaked = await soakStage(ctx, b, sampleNow, workerCount, firstWarmup);
    } else {
      ctx.say(`${ctx.tag} warm-up: ${firstWarmup.requests} responses ${statusLine(firstWarmup)}; settling`);
    }
    const settled = await settleStage(ctx, b, ready, firstWarmup, sampleNow);
    const { sample, settleRecord, replaced } = settled;
    // A re-warm of replaced workers keeps the depth the first warm-up reached on record.
    const warmup =
      settled.warmup !== firstWarmup && firstWarmup.steady ? { ...settled.warmup, steady: firstWarmup.steady } : settled.warmup;
    // Where the memory is: full smaps of the master and workers, at this final sample only.
    const mappings = deps.memory.breakdown(sample.processes);
    const container = deps.memory.container?.(server.pid, new Set(sample.processes.map((p) => p.pid)));
    const warnings = diagnose({
      variant: variant.name,
      run: index,
      warmup,
      warmedWorkers: workerCount,
      settle: settleRecord,
      processes: sample.processes,
      skipped: sample.snapshot.skipped,
      expectedWorkers: workerCount,
      replacedWorkers: replaced,
      foreignSharers: deps.memory.foreignSharers(server.pid, new Set(sample.processes.map((p) => p.pid))),
      poolNotFixed: adapter.poolNotFixed?.(b.argv, ctx.variant.cwd ?? scenario.cwd),
    });
    const reload = scenario.reload && b.appCopy ? await reloadStage(ctx, b, sample) : undefined;
    ctx.say(`${ctx.tag} measured total PSS ${(sample.snapshot.totals.pssBytes / 1048576).toFixed(1)} MiB; stopping`);
    const stopped = deps.launcher.stop(server, adapter).then((r) => {
      b.appCopy?.remove();
      b.config?.remove();
      ctx.say(`${ctx.tag} stopped${r.forced ? ' (forced with SIGKILL)' : ''}`);
    });
    return {
      stopped,
      exe,
      record: {
        index,
        startedAt,
        port,
        masterPid: server.pid,
        bootMs: ready.bootMs,
        wallMs: deps.clock.now() - t0,
        workerCount: { count: workerCount, source: b.expected.source },
        processes: sample.processes,
        totals: sample.snapshot.totals,
        skipped: sample.snapshot.skipped,
        warmup,
        settle: settleRecord,
        mappings,
        ...(soaked ? { soak: soaked } : {}),
        ...(reload ? { reload } : {}),
        ...(container ? { container } : {}),
        warnings,
      },
    };
  } catch (error) {
    // Interrupted: a signal must end memcompare within a second or two, so the graceful stop is short.
    await deps.launcher.stop(server, adapter, signal?.aborted ? INTERRUPT_STOP_MS : undefined);
    b.appCopy?.remove();
    b.config?.remove();
    throw error;
  }
}

/** The document before any run: settings used, host to be filled in, no variant measured. */
function emptyDocument(scenario: Scenario, adapter: ServerFamily, runs: number, version: string): ResultsDocument {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'memcompare', version },
    startedAt: new Date().toISOString(),
    finishedAt: null,
    complete: false,
    scenario: {
      name: scenario.name,
      description: scenario.description,
      server: adapter.name,
      workers: scenario.workers,
      runs,
      warmup: scenario.warmup,
      settle: scenario.settle,
      ...(scenario.soak ? { soak: scenario.soak } : {}),
      ...(scenario.file ? { file: scenario.file } : {}),
    },
    host: { os: '', kernel: '', cpu: '', cores: 0, memoryBytes: 0, node: process.version, server: '' },
    variants: scenario.variants.map((v) => ({
      name: v.name,
      command: v.command ?? [...scenario.command, ...v.args],
      env: v.env,
      ...(v.revision ? { revision: v.revision } : {}),
      ...(v.point ? { point: v.point } : {}),
      ...(v.server ? { server: v.server } : {}),
      runs: [],
    })),
    summary: { variants: [], comparisons: [] },
    warnings: [],
  };
}

/** The order of a scenario's runs: variants interleaved (A B A B …) so that drift on the host hits all alike. */
export function runOrder(variants: number, runs: number): { run: number; variant: number }[] {
  const order: { run: number; variant: number }[] = [];
  for (let run = 1; run <= runs; run++) for (let variant = 0; variant < variants; variant++) order.push({ run, variant });
  return order;
}

/**
 * Runs a scenario: every run of every variant, interleaved; the output sink (`onUpdate`) gets the
 * document after every run, and once more at the end, marked incomplete (with the reason) when the
 * run was interrupted or failed.
 */
export async function runScenario(scenario: Scenario, o: RunOptions = {}, given: RunDeps = realRunDeps): Promise<ResultsDocument> {
  let deps = given;
  const adapter = o.adapter ?? (familyNamed(scenario.server) as ServerFamily);
  const runs = o.runs ?? scenario.runs;
  const say = o.onProgress ?? (() => {});
  // Host metadata is gathered while the first server boots (systeminformation is slow to load and ask).
  let hostPromise: Promise<HostInfo> | undefined;
  const host = () => {
    hostPromise ??= new Promise<void>((r) => setImmediate(r)).then(() => deps.host.info(adapter.versionCommand));
    return hostPromise;
  };
  const doc = emptyDocument(scenario, adapter, runs, o.version ?? '0.0.0');
  const variants: VariantResult[] = doc.variants;
  const refresh = () => Object.assign(doc, summarize(variants));
  let previousGone: Promise<unknown> = Promise.resolve();
  let previousStopping = false;
  let software: Promise<SoftwareInfo | undefined> | undefined;
  // The interpreter's packages are asked while the next server boots; an interrupt does not wait for them.
  const withSoftware = async () => {
    const aborted = new Promise<undefined>((r) => {
      if (o.signal?.aborted) r(undefined);
      o.signal?.addEventListener('abort', () => r(undefined), { once: true });
    });
    const sw = await Promise.race([software, aborted]);
    if (sw) doc.host.software = sw;
  };
  let services: RunningService[] = [];
  try {
    if (scenario.services) {
      say(`starting services: ${scenario.services.map((s) => s.name).join(', ')}`);
      services = await startServices(scenario.services, scenario.cwd, given, o.signal);
      say(`services ready: ${services.map((s) => `${s.name} on port ${s.port} (pid ${s.server.pid})`).join(', ')}`);
    }
    const ports = Object.fromEntries(services.map((s) => [s.name, s.port]));
    deps = forProtocol(given, scenario);
    const loadFor = given === realRunDeps ? commandLoadFor(scenario, ports) : undefined;
    // The planned rounds, then any the caller adds (each a whole round: every variant, interleaved).
    let planned = runs;
    const order = runOrder(scenario.variants.length, runs);
    for (let k = 0; k < order.length; k++) {
      const { run, variant: vi } = order[k] as { run: number; variant: number };
      const variant = scenario.variants[vi] as Variant;
      const tag = `[${variant.name} ${run}/${planned}]`;
      checkServices(services);
      const measuring = measureOnce({
        scenario,
        // A variant of another family (one server against another) is stopped and read its own way.
        adapter: variant.server ? (familyNamed(variant.server) ?? adapter) : adapter,
        variant,
        index: run,
        options: o,
        deps,
        tag,
        say,
        previousGone,
        previousStopping: () => previousStopping,
        services: ports,
        ...(loadFor ? { loadFor } : {}),
      });
      host().catch(() => {});
      const { record, stopped, exe } = await measuring;
      previousGone = stopped;
      previousStopping = true;
      stopped.then(
        () => {
          if (previousGone === stopped) previousStopping = false;
        },
        () => {
          if (previousGone === stopped) previousStopping = false;
        },
      );
      // The interpreter and its packages, asked once, while the next server boots.
      software ??= deps.host.software(exe).catch(() => undefined);
      checkServices(services);
      (variants[vi] as VariantResult).runs.push(record);
      // With no declared count, the document's count is what the first run found.
      if (scenario.detectWorkers && vi === 0 && run === 1) doc.scenario.workers = record.workerCount?.count ?? doc.scenario.workers;
      if (doc.host.os === '') doc.host = await host();
      refresh();
      o.onUpdate?.(doc);
      if (k === order.length - 1 && o.moreRuns?.(doc, run)) {
        planned = run + 1;
        doc.scenario.runs = planned;
        order.push(...runOrder(scenario.variants.length, 1).map((x) => ({ ...x, run: planned })));
      }
    }
    await previousGone;
    await withSoftware();
    doc.complete = true;
    doc.finishedAt = new Date().toISOString();
    refresh();
    o.onUpdate?.(doc);
    return doc;
  } catch (error) {
    // Interrupted: the previous server has had its stop signal since its run ended; what is left is SIGKILLed.
    if (o.signal?.aborted) deps.launcher.killAll();
    await previousGone.catch(() => {});
    doc.complete = false;
    doc.finishedAt = new Date().toISOString();
    doc.incompleteReason = error instanceof Error ? error.message : String(error);
    // Host facts if they come quickly: a signal must end memcompare within a second or two.
    if (doc.host.os === '') doc.host = await Promise.race([host().catch(() => doc.host), deps.clock.sleep(500).then(() => doc.host)]);
    await withSoftware();
    refresh();
    try {
      o.onUpdate?.(doc);
    } catch {
      // The error being reported matters more than a second failure to save.
    }
    if (o.signal?.aborted && !(error instanceof MemcompareError && error.code !== 'INTERRUPTED')) {
      throw o.signal.reason instanceof MemcompareError
        ? o.signal.reason
        : new MemcompareError('INTERRUPTED', 'run interrupted; the runs finished so far are saved, marked incomplete');
    }
    throw error;
  } finally {
    // The services go last, after every server (a broker outlives its workers).
    await stopServices(services, given);
  }
}
