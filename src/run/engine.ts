import { nowMs } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { hostInfo, softwareInfo } from '../host.js';
import { exeOf, foreignSharers } from '../proc/sharers.js';
import { listPids } from '../proc/tree.js';
import { compareVariants, summarizeVariant } from '../results/aggregate.js';
import {
  type HostInfo,
  RESULTS_SCHEMA_VERSION,
  type ReloadRecord,
  type ResultsDocument,
  type RunRecord,
  type SoakRecord,
  type SoftwareInfo,
  type VariantResult,
  type WorkerCountSource,
} from '../results/types.js';
import { NOISY_PERCENT, noisyWarning } from '../results/warnings.js';
import { expandCommand, type Scenario, type Variant } from '../scenario/scenario.js';
import { ADAPTERS, type ServerAdapter } from '../servers/adapters.js';
import { readBreakdown } from './breakdown.js';
import { daemonizedError, findEscapees, stopEscapees } from './daemon.js';
import { diagnose } from './diagnose.js';
import { freeLoopbackPort, launch } from './launch.js';
import { assertPortFree } from './port.js';
import { type ReadyRecord, serverDied, waitReady } from './ready.js';
import { copyApp, measureReload } from './reload.js';
import { sampleTree } from './sample.js';
import { settle } from './settle.js';
import { soak } from './soak.js';
import { stopServer } from './stop.js';
import { autocannonLoad, loadAutocannon, warmUp } from './warm.js';

export interface RunOptions {
  scenario: Scenario;
  /** Overrides the scenario's run count. */
  runs?: number;
  /** The adapter to use instead of the scenario's server family. */
  adapter?: ServerAdapter;
  /** Called with the document after every run, and at the end (persist it here). */
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
  signal?: AbortSignal;
  version?: string;
}

export function variantCommand(scenario: Scenario, variant: Variant, port: number): string[] {
  const template = variant.command ?? [...scenario.command, ...variant.args];
  return expandCommand(template, { port, workers: variant.workers ?? scenario.workers });
}

/** What one run of one variant needs. */
export interface RunContext {
  scenario: Scenario;
  adapter: ServerAdapter;
  variant: Variant;
  /** 1-based run number of this variant. */
  index: number;
  options: RunOptions;
  /** Settles when every process of the previous server is gone (awaited before the warm-up). */
  previousGone: Promise<unknown>;
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

/**
 * One run of one variant. The previous server may still be shutting down while this one boots
 * (a preloaded gunicorn takes seconds to exit); `previousGone` is awaited before the warm-up, so no
 * dying process shares pages with, or takes CPU from, what is measured. Returns with the server
 * stopping: `stopped` settles when all of its processes are gone.
 */
async function measureOnce(ctx: RunContext): Promise<{ record: RunRecord; stopped: Promise<unknown>; exe: string | undefined }> {
  const { scenario, adapter, variant, index, options: o } = ctx;
  const say = o.onProgress ?? (() => {});
  const tag = `[${variant.name} ${index}/${o.runs ?? scenario.runs}]`;
  const startedAt = new Date().toISOString();
  const t0 = nowMs();
  const port = scenario.port ?? (await freeLoopbackPort());
  assertPortFree(port);
  const argv = variantCommand(scenario, variant, port);
  const env = Object.fromEntries(
    Object.entries(variant.env).map(([k, v]) => [
      k,
      expandCommand([v], { port, workers: variant.workers ?? scenario.workers })[0] as string,
    ]),
  );
  const expected = expectedWorkers(ctx, argv, env);
  const before = new Set(listPids());
  // A reload run edits the app: it runs in a copy of the app folder, never in the user's.
  const appCopy = scenario.reload ? copyApp(variant.cwd ?? scenario.cwd) : undefined;
  if (appCopy) env.PYTHONDONTWRITEBYTECODE = '1';
  const server = await launch({ argv, cwd: appCopy?.dir ?? variant.cwd ?? scenario.cwd, env, echo: o.echo }).catch((error) => {
    appCopy?.remove();
    throw error;
  });
  say(`${tag} booting pid ${server.pid} on port ${port}: ${argv.join(' ')}`);
  setImmediate(loadAutocannon);
  try {
    let ready: ReadyRecord;
    try {
      ready = await waitReady(
        server,
        adapter,
        { port, path: scenario.warmup.path, workers: expected.count, timeoutMs: scenario.bootTimeoutMs },
        o.signal,
      );
    } catch (error) {
      // A server that daemonized: its launched process exited (or lost the port to a process outside its
      // tree) and its master went on in a session of its own. The port was free before the launch.
      // (A daemonizing parent exits 0; a server that failed exits otherwise and is reported at once.)
      const exitedOk = server.child.exitCode === 0 || (error instanceof MemcompareError && error.code === 'PORT_TAKEN');
      if (exitedOk && error instanceof MemcompareError && (error.code === 'SERVER_DIED' || error.code === 'PORT_TAKEN')) {
        const escaped = await findEscapees(argv, before, port);
        if (escaped.length > 0) throw daemonizedError(argv, await stopEscapees(escaped, adapter));
      }
      throw error;
    }
    const exe = exeOf(server.pid);
    await ctx.previousGone;
    const workerCount = ready.workerPids.length;
    say(
      `${tag} ready in ${(ready.bootMs / 1000).toFixed(1)} s with ${workerCount} workers${ready.detected ? ' (detected)' : ''}; warming up`,
    );
    let warmup = await warmUp(port, scenario.warmup, ready.workerPids, o.signal);
    const codes = Object.entries(warmup.statusCodes)
      .map(([c, n]) => `[${c}] ${n}`)
      .join(' ');
    const target = { server, sample: () => sampleTree(server, adapter) };
    let soaked: SoakRecord | undefined;
    if (scenario.soak) {
      const settings = scenario.soak;
      say(`${tag} warm-up: ${warmup.requests} responses ${codes}; soaking for ${settings.durationSeconds} s`);
      soaked = await soak({
        port,
        path: scenario.warmup.path,
        settings,
        load: autocannonLoad,
        sample: target.sample,
        alive: () => {
          if (server.hasExited()) throw serverDied(server, 'during the soak');
        },
        onTick: (st) => o.onSoakTick?.(tag, { ...st, durationMs: settings.durationSeconds * 1000 }),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      say(
        `${tag} soak: ${soaked.requests} responses in ${(soaked.durationMs / 1000).toFixed(1)} s, peak total PSS ${(soaked.peakTotalPssBytes / 1048576).toFixed(1)} MiB, ${soaked.samples} samples every ${soaked.achievedIntervalMs.toFixed(0)} ms (sampler ${soaked.samplerCpuPercent.toFixed(1)}% of a core); settling`,
      );
    } else {
      say(`${tag} warm-up: ${warmup.requests} responses ${codes}; settling`);
    }
    let { sample, record } = await settle(target, workerCount, scenario.settle, o.signal);
    say(`${tag} ${record.settled ? 'settled' : 'did not settle'} after ${record.samples} samples`);
    // A worker that died and was replaced since the warm-up has served nothing: measuring it would
    // understate memory. Warm the new ones and settle again (bounded), and say so.
    const warmed = new Set(ready.workerPids);
    const replaced: number[] = [];
    for (let retry = 0; retry < 2; retry++) {
      const fresh = sample.processes.filter((p) => p.role === 'worker' && !warmed.has(p.pid)).map((p) => p.pid);
      if (fresh.length === 0) break;
      replaced.push(...fresh);
      say(`${tag} workers ${fresh.join(', ')} are new since the warm-up; warming them`);
      const workerPids = sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
      warmup = await warmUp(port, scenario.warmup, workerPids, o.signal);
      for (const pid of workerPids) warmed.add(pid);
      ({ sample, record } = await settle(target, workerCount, scenario.settle, o.signal));
    }
    // Where the memory is: full smaps of the master and workers, at this final sample only.
    const mappings = readBreakdown(sample.processes);
    const warnings = diagnose({
      variant: variant.name,
      run: index,
      warmup,
      warmedWorkers: workerCount,
      settle: record,
      processes: sample.processes,
      skipped: sample.snapshot.skipped,
      expectedWorkers: workerCount,
      replacedWorkers: replaced,
      foreignSharers: foreignSharers(server.pid, new Set(sample.processes.map((p) => p.pid))),
    });
    let reload: ReloadRecord | undefined;
    if (scenario.reload && appCopy) {
      const measured = await measureReload({
        server,
        adapter,
        port,
        settings: scenario.reload,
        appDir: appCopy.dir,
        workerPids: sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid),
        warmup: scenario.warmup,
        settle: scenario.settle,
        totalPssBeforeBytes: sample.snapshot.totals.pssBytes,
        ...(o.signal ? { signal: o.signal } : {}),
        say: (line) => say(`${tag} ${line}`),
      });
      reload = measured.record;
      say(
        `${tag} reload: ${reload.workersReplaced} new workers in ${(reload.reloadMs / 1000).toFixed(1)} s answer ${JSON.stringify(reload.after.slice(0, 40))} (before: ${JSON.stringify(reload.before.slice(0, 40))}): ${reload.stale ? 'STALE' : 'fresh'}`,
      );
    }
    const pssMib = (sample.snapshot.totals.pssBytes / 1048576).toFixed(1);
    say(`${tag} measured total PSS ${pssMib} MiB; stopping`);
    const stopped = stopServer(server, adapter).then((r) => {
      appCopy?.remove();
      say(`${tag} stopped${r.forced ? ' (forced with SIGKILL)' : ''}`);
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
        wallMs: nowMs() - t0,
        workerCount: { count: workerCount, source: expected.source },
        processes: sample.processes,
        totals: sample.snapshot.totals,
        skipped: sample.snapshot.skipped,
        warmup,
        settle: record,
        mappings,
        ...(soaked ? { soak: soaked } : {}),
        ...(reload ? { reload } : {}),
        warnings,
      },
    };
  } catch (error) {
    await stopServer(server, adapter);
    appCopy?.remove();
    throw error;
  }
}

/** Runs a scenario: variants interleaved (A B A B …) so that drift on the host hits all alike. */
export async function runScenario(o: RunOptions): Promise<ResultsDocument> {
  const { scenario } = o;
  const adapter = o.adapter ?? (ADAPTERS[scenario.server] as ServerAdapter);
  const runs = o.runs ?? scenario.runs;
  // Host metadata is gathered while the first server boots (systeminformation is slow to load and ask).
  let hostPromise: Promise<HostInfo> | undefined;
  const host = () => {
    hostPromise ??= new Promise<void>((r) => setImmediate(r)).then(() => hostInfo(adapter.versionCommand));
    return hostPromise;
  };
  const variants: VariantResult[] = scenario.variants.map((v) => ({
    name: v.name,
    command: v.command ?? [...scenario.command, ...v.args],
    env: v.env,
    ...(v.revision ? { revision: v.revision } : {}),
    ...(v.point ? { point: v.point } : {}),
    runs: [],
  }));
  const doc: ResultsDocument = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'memcompare', version: o.version ?? '0.0.0' },
    startedAt: new Date().toISOString(),
    finishedAt: null,
    complete: false,
    scenario: {
      name: scenario.name,
      description: scenario.description,
      server: adapter.family,
      workers: scenario.workers,
      runs,
      warmup: scenario.warmup,
      settle: scenario.settle,
      ...(scenario.soak ? { soak: scenario.soak } : {}),
      ...(scenario.file ? { file: scenario.file } : {}),
    },
    host: { os: '', kernel: '', cpu: '', cores: 0, memoryBytes: 0, node: process.version, server: '' },
    variants,
    summary: { variants: [], comparisons: [] },
    warnings: [],
  };
  const refresh = () => {
    const summaries = variants.filter((v) => v.runs.length > 0).map(summarizeVariant);
    // Base against head of each variant when a baseline ref was measured; else every variant against the first.
    // Sweep points: every variant against the first at the same worker count.
    const pairs = variants.some((v) => v.point)
      ? variants.flatMap((v) => {
          const first = variants.find((x) => x.point?.workers === v.point?.workers);
          return first && first !== v ? [[first.name, v.name] as [string, string]] : [];
        })
      : variants.filter((v) => v.revision?.role === 'base').map((v) => [v.name, v.name.replace(/@base$/, '')] as [string, string]);
    doc.summary = { variants: summaries, comparisons: compareVariants(summaries, pairs.length > 0 ? pairs : undefined) };
    doc.warnings = variants.flatMap((v) => v.runs.flatMap((r) => r.warnings));
    for (const s of summaries) {
      if (s.runs > 1 && s.totalPssBytes.spreadPercent > NOISY_PERCENT)
        doc.warnings.push(noisyWarning(s.name, s.totalPssBytes.spreadPercent));
    }
  };
  let previousGone: Promise<unknown> = Promise.resolve();
  let software: Promise<SoftwareInfo | undefined> | undefined;
  const withSoftware = async () => {
    const sw = await software;
    if (sw) doc.host.software = sw;
  };
  try {
    for (let i = 1; i <= runs; i++) {
      for (const [vi, variant] of scenario.variants.entries()) {
        const measuring = measureOnce({ scenario, adapter, variant, index: i, options: o, previousGone });
        host().catch(() => {});
        const { record, stopped, exe } = await measuring;
        previousGone = stopped;
        // The interpreter and its packages, asked once, while the next server boots.
        software ??= softwareInfo(exe).catch(() => undefined);
        (variants[vi] as VariantResult).runs.push(record);
        // With no declared count, the document's count is what the first run found.
        if (scenario.detectWorkers && vi === 0 && i === 1) doc.scenario.workers = record.workerCount?.count ?? doc.scenario.workers;
        if (doc.host.os === '') doc.host = await host();
        refresh();
        o.onUpdate?.(doc);
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
    await previousGone.catch(() => {});
    doc.complete = false;
    doc.finishedAt = new Date().toISOString();
    doc.incompleteReason = error instanceof Error ? error.message : String(error);
    if (doc.host.os === '') doc.host = await host().catch(() => doc.host);
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
  }
}
