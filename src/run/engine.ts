import { readdirSync, readlinkSync } from 'node:fs';
import { nowMs } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { hostInfo } from '../host.js';
import { listeningInodes, portOwner } from '../proc/sockets.js';
import { withDescendants } from '../proc/tree.js';
import {
  type HostInfo,
  RESULTS_SCHEMA_VERSION,
  type ResultsDocument,
  type RunRecord,
  type VariantResult,
  type Warning,
} from '../results.js';
import { expandCommand, type Scenario, type Variant } from '../scenario/scenario.js';
import { ADAPTERS, type ServerAdapter } from '../servers/adapters.js';
import { compareVariants, summarizeVariant } from './aggregate.js';
import { freeLoopbackPort, launch } from './launch.js';
import { waitReady } from './ready.js';
import { settle } from './settle.js';
import { stopServer } from './stop.js';
import { loadAutocannon, warmUp } from './warm.js';

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
  /** Where to copy the server's output (--show-output). */
  echo?: NodeJS.WritableStream;
  signal?: AbortSignal;
  version?: string;
}

const NOISY_PERCENT = 1;

/** Processes outside the tree running the same executable as the master: they share its file pages. */
function foreignSharers(masterPid: number, tree: Set<number>): { exe: string; pids: number[] } | undefined {
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${masterPid}/exe`);
  } catch {
    return undefined;
  }
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (tree.has(pid) || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === exe) pids.push(pid);
    } catch {
      // not ours to read, or gone
    }
  }
  return pids.length > 0 ? { exe, pids } : undefined;
}

export function variantCommand(scenario: Scenario, variant: Variant, port: number): string[] {
  const template = variant.command ?? [...scenario.command, ...variant.args];
  return expandCommand(template, { port, workers: scenario.workers });
}

/**
 * One run of one variant. The previous server may still be shutting down while this one boots
 * (a preloaded gunicorn takes seconds to exit); `previousGone` is awaited before the warm-up, so no
 * dying process shares pages with, or takes CPU from, what is measured. Returns with the server
 * stopping: `stopped` settles when all of its processes are gone.
 */
async function measureOnce(
  scenario: Scenario,
  adapter: ServerAdapter,
  variant: Variant,
  index: number,
  o: RunOptions,
  previousGone: Promise<unknown>,
): Promise<{ record: RunRecord; stopped: Promise<unknown> }> {
  const say = o.onProgress ?? (() => {});
  const tag = `[${variant.name} ${index}/${o.runs ?? scenario.runs}]`;
  const startedAt = new Date().toISOString();
  const t0 = nowMs();
  const port = scenario.port ?? (await freeLoopbackPort());
  const inodes = listeningInodes(port);
  if (inodes.size > 0) {
    const owner = portOwner(port);
    throw new MemcompareError(
      'PORT_TAKEN',
      `port ${port}: already in use${owner === undefined ? '' : ` by pid ${owner}`}; stop that process or let memcompare pick a free port with {port}`,
    );
  }
  const argv = variantCommand(scenario, variant, port);
  const env = Object.fromEntries(
    Object.entries(variant.env).map(([k, v]) => [k, expandCommand([v], { port, workers: scenario.workers })[0] as string]),
  );
  const server = await launch({ argv, cwd: scenario.cwd, env, echo: o.echo });
  say(`${tag} booting pid ${server.pid} on port ${port}: ${argv.join(' ')}`);
  setImmediate(loadAutocannon);
  try {
    const ready = await waitReady(
      server,
      adapter,
      { port, path: scenario.warmup.path, workers: scenario.workers, timeoutMs: scenario.bootTimeoutMs },
      o.signal,
    );
    await previousGone;
    say(`${tag} ready in ${(ready.bootMs / 1000).toFixed(1)} s with ${ready.workerPids.length} workers; warming up`);
    let warmup = await warmUp(port, scenario.warmup, ready.workerPids, o.signal);
    const codes = Object.entries(warmup.statusCodes)
      .map(([c, n]) => `[${c}] ${n}`)
      .join(' ');
    say(`${tag} warm-up: ${warmup.requests} responses ${codes}; settling`);
    let { sample, record } = await settle(server, adapter, scenario.workers, scenario.settle, o.signal);
    say(`${tag} ${record.settled ? 'settled' : 'did not settle'} after ${record.samples} samples`);
    const warnings: Warning[] = [];
    const w = (kind: Warning['kind'], message: string, remedy: string) =>
      warnings.push({ kind, message, remedy, variant: variant.name, run: index });
    // A worker that died and was replaced since the warm-up has served nothing: measuring it would
    // understate memory. Warm the new ones and settle again (bounded), and say so.
    const warmed = new Set(ready.workerPids);
    for (let retry = 0; retry < 2; retry++) {
      const fresh = sample.processes.filter((p) => p.role === 'worker' && !warmed.has(p.pid)).map((p) => p.pid);
      if (fresh.length === 0) break;
      w(
        'worker-replaced',
        `workers ${fresh.join(', ')} replaced workers that exited after the warm-up`,
        'memcompare warmed and measured the new workers; look for crashes, timeouts or max_requests in the server output',
      );
      say(`${tag} workers ${fresh.join(', ')} are new since the warm-up; warming them`);
      const workerPids = sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
      warmup = await warmUp(port, scenario.warmup, workerPids, o.signal);
      for (const pid of workerPids) warmed.add(pid);
      ({ sample, record } = await settle(server, adapter, scenario.workers, scenario.settle, o.signal));
    }
    if (warmup.idleWorkers.length > 0) {
      w(
        'idle-worker',
        `${warmup.idleWorkers.length} of ${ready.workerPids.length} workers served no request during the warm-up (pids ${warmup.idleWorkers.join(', ')})`,
        'raise warmup.requests and warmup.connections so that every worker gets traffic; an unwarmed worker understates memory',
      );
    }
    const serverErrors = Object.entries(warmup.statusCodes)
      .filter(([code]) => code.startsWith('5'))
      .reduce((n, [, k]) => n + k, 0);
    if (serverErrors > 0) {
      w(
        'warmup-errors',
        `${serverErrors} of ${warmup.requests} warm-up responses were server errors (5xx)`,
        "a failing app is not a warm one: check the app's output (--show-output) and warmup.path",
      );
    }
    if (warmup.errors > 0 || warmup.timeouts > 0) {
      w(
        'warmup-errors',
        `the warm-up had ${warmup.errors} errors and ${warmup.timeouts} timeouts`,
        "check the app's output (--show-output) and warmup.path",
      );
    }
    if (!record.settled) {
      w(
        'not-settled',
        `total PSS still moved ${record.lastChangePercent.toFixed(2)}% between samples after ${(record.durationMs / 1000).toFixed(1)} s`,
        'raise settle.timeoutMs or settle.tolerancePercent, or look for background work in the app',
      );
    }
    if (sample.workers !== scenario.workers) {
      w(
        'worker-count',
        `${sample.workers} workers measured, ${scenario.workers} expected`,
        'check the --workers value and the server output (--show-output)',
      );
    }
    if (sample.snapshot.skipped.length > 0) {
      w(
        'skipped-processes',
        `${sample.snapshot.skipped.length} processes of the tree could not be read: ${sample.snapshot.skipped.map((s) => `${s.pid} (${s.reason})`).join(', ')}`,
        'run memcompare as the server user or as root',
      );
    }
    const sharers = foreignSharers(server.pid, new Set(withDescendants([server.pid])));
    if (sharers) {
      w(
        'foreign-sharers',
        `${sharers.pids.length} other processes on the host run ${sharers.exe} (pids ${sharers.pids.slice(0, 8).join(', ')}${sharers.pids.length > 8 ? ', …' : ''}); they share file pages with the server and lower its PSS`,
        'stop them for numbers comparable across hosts; Pss_Anon (reported beside PSS) does not depend on them',
      );
    }
    const pssMib = (sample.snapshot.totals.pssBytes / 1048576).toFixed(1);
    say(`${tag} measured total PSS ${pssMib} MiB; stopping`);
    const stopped = stopServer(server, adapter).then((r) => say(`${tag} stopped${r.forced ? ' (forced with SIGKILL)' : ''}`));
    return {
      stopped,
      record: {
        index,
        startedAt,
        port,
        masterPid: server.pid,
        bootMs: ready.bootMs,
        wallMs: nowMs() - t0,
        processes: sample.processes,
        totals: sample.snapshot.totals,
        skipped: sample.snapshot.skipped,
        warmup,
        settle: record,
        warnings,
      },
    };
  } catch (error) {
    await stopServer(server, adapter);
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
      ...(scenario.file ? { file: scenario.file } : {}),
    },
    host: { os: '', kernel: '', cpu: '', cores: 0, memoryBytes: 0, node: process.version, server: '' },
    variants,
    summary: { variants: [], comparisons: [] },
    warnings: [],
  };
  const refresh = () => {
    const summaries = variants.filter((v) => v.runs.length > 0).map(summarizeVariant);
    doc.summary = { variants: summaries, comparisons: compareVariants(summaries) };
    doc.warnings = variants.flatMap((v) => v.runs.flatMap((r) => r.warnings));
    for (const s of summaries) {
      if (s.runs > 1 && s.totalPssBytes.spreadPercent > NOISY_PERCENT) {
        doc.warnings.push({
          kind: 'noisy',
          variant: s.name,
          message: `total PSS of ${s.name} varied by ${s.totalPssBytes.spreadPercent.toFixed(2)}% across runs`,
          remedy: 'quiet the host (other servers share pages) or raise --runs',
        });
      }
    }
  };
  let previousGone: Promise<unknown> = Promise.resolve();
  try {
    for (let i = 1; i <= runs; i++) {
      for (const [vi, variant] of scenario.variants.entries()) {
        const measuring = measureOnce(scenario, adapter, variant, i, o, previousGone);
        host().catch(() => {});
        const { record, stopped } = await measuring;
        previousGone = stopped;
        (variants[vi] as VariantResult).runs.push(record);
        if (doc.host.os === '') doc.host = await host();
        refresh();
        o.onUpdate?.(doc);
      }
    }
    await previousGone;
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
