import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onExit } from 'signal-exit';
import { DEFAULT_GATE, evaluateGate } from '../check/gate.js';
import { badArgument, type ExitCodeValue, MemcompareError } from '../errors.js';
import type { Io } from '../memory.js';
import { toolVersion } from '../paths.js';
import { checkWritable, isStreamOutput, writeAtomic, writeOutput } from '../persist.js';
import { renderRunSummary } from '../render/terminal.js';
import { progressBar } from '../render/units.js';
import { terminalWidth } from '../render/width.js';
import { HEADROOM, workerPeakUss } from '../results/lifetime.js';
import { splitByRevision } from '../results/revisions.js';
import type { ResultsDocument, SoakRecord, VerificationRecord } from '../results/types.js';
import { runScenario } from '../run/engine.js';
import { acquireHostLock } from '../run/lock.js';
import { killAllNow } from '../run/stop.js';
import { openBaseTree, withBaseline } from '../run/worktree.js';
import { splitCommand } from '../scenario/argv.js';
import { checkFlag, LIMITS } from '../scenario/limits.js';
import { DEFAULT_SETTLE, DEFAULT_SOAK, DEFAULT_WARMUP, loadScenario, type Scenario } from '../scenario/scenario.js';
import { FALLBACK_FAMILY, FAMILIES, familyForCommand, familyNamed, familyNames, type ServerFamily } from '../servers/registry.js';
import { parseSize } from './check.js';
import type { FlagValues, RUN_FLAGS } from './flags.js';

/** `memcompare run`'s options: its flag table (flags.ts) and the scenario positional. */
export type RunCommandOptions = FlagValues<typeof RUN_FLAGS> & { scenario: string | undefined };

/** 128 + the signal's number, as a shell reports a process killed by it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, ExitCodeValue>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** A scenario made of --command flags, hyperfine-style. */
export function adhocScenario(o: RunCommandOptions): { scenario: Scenario; adapter: ServerFamily } {
  if (o.name.length > 0 && o.name.length !== o.command.length) {
    throw badArgument('--name', o.name, `give one --name per --command (${o.command.length} commands, ${o.name.length} names)`);
  }
  checkFlag('--workers', o.workers, LIMITS.workers);
  const workers = o.workers ?? LIMITS.workers.default;
  const cwd = resolve(o.cwd ?? process.cwd());
  let configuredPort: number | undefined;
  const argvs = o.command.map((c) => {
    const argv = splitCommand(c);
    if (argv.length === 0) throw badArgument('--command', c, 'name the server program and its arguments');
    // A port fixed in the server's flags or its own configuration file: read it there.
    const family = familyForCommand(argv);
    const fromConfig = argv.some((a) => a.includes('{port}')) ? undefined : family.portFromCommand?.(argv, cwd);
    if (fromConfig !== undefined) configuredPort ??= fromConfig;
    const onSocket = family.socketFromCommand?.(argv, cwd) !== undefined;
    if (o.port === undefined && fromConfig === undefined && !onSocket && !argv.some((a) => a.includes('{port}'))) {
      throw badArgument(
        '--command',
        c,
        'add {port} where the server takes its port (e.g. -b 127.0.0.1:{port}) so memcompare can pick a free loopback port, or pass --port',
      );
    }
    return argv;
  });
  let adapter = familyForCommand(argvs[0] ?? []);
  if (o.server !== undefined) {
    const a = familyNamed(o.server);
    if (!a) throw badArgument('--server', o.server, `use one of: ${familyNames().join(', ')}`);
    adapter = a;
  }
  const seen = new Set<string>();
  const variants = argvs.map((argv, i) => {
    const name = o.name[i] ?? `command${i + 1}`;
    if (seen.has(name)) throw badArgument('--name', name, 'names must differ');
    seen.add(name);
    // Without --server each command's family is its own (one server against another).
    const own = o.server === undefined ? familyForCommand(argv) : adapter;
    return { name, args: [], env: {}, command: argv, ...(own !== adapter ? { server: own.name } : {}) };
  });
  const fastcgi = o.fastcgiScript !== undefined || adapter.protocol?.name === 'fastcgi';
  let script: string | undefined;
  if (fastcgi) {
    if (o.fastcgiScript === undefined)
      throw badArgument(
        '--command',
        o.command[0],
        `${adapter.name} speaks FastCGI: add --fastcgi-script FILE, the script it runs (e.g. --fastcgi-script /srv/app/index.php)`,
      );
    script = resolve(cwd, o.fastcgiScript);
    if (!existsSync(script))
      throw badArgument('--fastcgi-script', o.fastcgiScript, `no such file (${script}); name the app's entry script`);
  }
  const port = o.port ?? configuredPort;
  // A server listening on a Unix socket its configuration names: the warm-up goes there, and no port is watched.
  const socket = script && argvs[0] ? adapter.socketFromCommand?.(argvs[0], cwd) : undefined;
  return {
    adapter,
    scenario: {
      name: 'adhoc',
      description: `Ad-hoc comparison of ${variants.length} command${variants.length === 1 ? '' : 's'}`,
      server: adapter.name,
      cwd,
      command: argvs[0] ?? [],
      workers,
      // No --workers and no {workers}: each command's own count (-w 3), or detection.
      detectWorkers: o.workers === undefined && !argvs.some((a) => a.some((x) => x.includes('{workers}'))),
      variants,
      warmup: {
        ...DEFAULT_WARMUP,
        until: 'steady',
        ...(script ? { protocol: 'fastcgi' as const, script, path: '/' } : {}),
        ...(socket ? { socket } : {}),
      },
      settle: { ...DEFAULT_SETTLE },
      runs: 3,
      bootTimeoutMs: 120_000,
      ...(port === undefined ? {} : { port }),
    },
  };
}

/**
 * --verify: each variant with advice soaked again with the advised setting on its command line; every
 * worker's peak USS (replacements included) against the limit.
 */
type VerifyOptions = { onProgress?: (line: string) => void; signal: AbortSignal; version: string; adapter?: ServerFamily };

/** The verifying soaks of one round: each variant run once; the soak of each, by variant name. */
async function soakOnce(scenario: Scenario, variants: Scenario['variants'], options: VerifyOptions) {
  const { adapter, ...rest } = options;
  const checked = await runScenario({ ...scenario, variants }, { ...rest, runs: 1, ...(adapter ? { adapter } : {}) });
  return (name: string) => checked.variants.find((x) => x.name === name)?.runs[0]?.soak;
}

/** A round's record: every worker's peak USS (exits included) against the limit. */
function roundRecord(
  variant: string,
  round: number,
  setting: string,
  args: string[],
  limitBytes: number,
  soak: SoakRecord | undefined,
): VerificationRecord {
  const peaks = soak ? workerPeakUss(soak.timeline, soak.exitPeakUssBytes) : [];
  return {
    variant,
    round,
    setting,
    args,
    limitBytes,
    workerPeakUssBytes: peaks,
    replacements: soak?.replacements?.length ?? 0,
    within: peaks.length > 0 && peaks.every((u) => u <= limitBytes),
    ...(soak?.exitCopy ? { exitCopy: soak.exitCopy } : {}),
  };
}

/** A variant with arguments added at the end of its command (argparse-style servers accept them there). */
const withArgs = (v: Scenario['variants'][number], args: string[], name: string) =>
  v.command ? { ...v, name, command: [...v.command, ...args] } : { ...v, name, args: [...v.args, ...args] };

async function verifyAdvice(
  doc: ResultsDocument,
  scenario: Scenario,
  adapter: ServerFamily | undefined,
  limitBytes: number,
  options: VerifyOptions,
): Promise<VerificationRecord[]> {
  const recycling = (adapter ?? familyNamed(scenario.server))?.recycling;
  const toArgs = recycling?.args;
  if (!recycling || !toArgs) return [];
  const plan = (v: Scenario['variants'][number], requests: number, bytesPerRequest: number, round: number) => {
    const args = toArgs(requests);
    return {
      variant: withArgs(v, args, `${v.name}+recycling${round > 1 ? `-${round}` : ''}`),
      setting: recycling.text(requests),
      args,
      from: v,
      requests,
      bytesPerRequest,
    };
  };
  let plans = scenario.variants.flatMap((v) => {
    const advice = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice;
    return advice?.setting && advice.requests !== null ? [plan(v, advice.requests, advice.bytesPerRequest, 1)] : [];
  });
  const records: VerificationRecord[] = [];
  // A closed loop: a round whose peak is over the limit lowers the setting by the requests its overshoot
  // took (overshoot ÷ growth per request, the limit less the headroom as the target), at most three rounds.
  for (let round = 1; round <= 3 && plans.length > 0; round++) {
    const soakOf = await soakOnce(
      scenario,
      plans.map((p) => p.variant),
      options,
    );
    const next: typeof plans = [];
    for (const p of plans) {
      const record = roundRecord(p.from.name, round, p.setting, p.args, limitBytes, soakOf(p.variant.name));
      records.push(record);
      if (record.within || record.workerPeakUssBytes.length === 0) continue;
      const overshoot = Math.max(...record.workerPeakUssBytes) - limitBytes * (1 - HEADROOM);
      const lowered = p.requests - Math.ceil(overshoot / Math.max(1, p.bytesPerRequest));
      if (lowered >= 1) next.push(plan(p.from, lowered, p.bytesPerRequest, round + 1));
    }
    plans = next;
  }
  return records;
}

/**
 * The memory-watching setting, verified where the family takes it on the command line: one soak with it
 * (instead of the request count), recorded as a round with `byRss`: every worker's peak against the
 * limit, and the workers recycled at birth (replaced after serving fewer than 2 requests: a threshold
 * under what a fresh worker already reports).
 */
async function verifyMemorySetting(
  doc: ResultsDocument,
  scenario: Scenario,
  family: ServerFamily | undefined,
  limitBytes: number,
  records: VerificationRecord[],
  options: VerifyOptions,
): Promise<void> {
  const toArgs = family?.memoryRecycling?.args;
  if (!toArgs) return;
  const plans = scenario.variants.flatMap((v) => {
    const memory = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice?.memory;
    if (!memory?.setting) return [];
    const args = toArgs(memory.thresholdBytes);
    return [{ from: v, memory, setting: memory.setting, args, variant: withArgs(v, args, `${v.name}+rss-recycling`) }];
  });
  if (plans.length === 0) return;
  const soakOf = await soakOnce(
    scenario,
    plans.map((p) => p.variant),
    options,
  );
  for (const p of plans) {
    const soak = soakOf(p.variant.name);
    const round = Math.max(0, ...records.filter((r) => r.variant === p.from.name).map((r) => r.round)) + 1;
    records.push({
      ...roundRecord(p.from.name, round, p.setting, p.args, limitBytes, soak),
      byRss: {
        thresholdBytes: p.memory.thresholdBytes,
        recycledAtBirth: (soak?.replacements ?? []).filter((r) => r.oldRequests < 2).length,
      },
    });
  }
}

/** An exit copy smaller than this is not worth a remedy round. */
const REMEDY_MIN_COPY_BYTES = 1024 * 1024;

/**
 * The exit remedy, measured where the family has one (a hook that ends the worker without finalization)
 * and the soak saw a worker copy at least 1 MiB at its exit: one more soak with the verified setting
 * and the remedy applied (in a config file of memcompare's own that loads the user's), recorded as a
 * verification round with `remedy`. Only when the copy measured there is under a quarter of the one
 * without it does the advice say so, with both figures; otherwise it says nothing of it.
 */
async function measureExitRemedy(
  doc: ResultsDocument,
  scenario: Scenario,
  family: ServerFamily | undefined,
  records: VerificationRecord[],
  options: VerifyOptions,
): Promise<void> {
  const remedy = family?.exitRemedy;
  if (!remedy || !family?.recycling?.args) return;
  const dir = mkdtempSync(join(tmpdir(), 'memcompare-remedy-'));
  chmodSync(dir, 0o755);
  try {
    const plans = scenario.variants.flatMap((v) => {
      const advice = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice;
      const rounds = records.filter((r) => r.variant === v.name && !r.remedy && !r.byRss);
      const last = rounds.find((r) => r.within) ?? rounds.at(-1);
      if (!advice || !last || advice.exitCopyBytes < REMEDY_MIN_COPY_BYTES) return [];
      const whole = v.command ?? [...scenario.command, ...v.args];
      const command = [...remedy.apply(whole, dir, v.cwd ?? scenario.cwd), ...last.args];
      return [{ from: v, advice, last, variant: { ...v, name: `${v.name}+exit-remedy`, command, args: [] } }];
    });
    if (plans.length === 0) return;
    const soakOf = await soakOnce(
      scenario,
      plans.map((p) => p.variant),
      options,
    );
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    for (const p of plans) {
      const soak = soakOf(p.variant.name);
      const measured = soak?.exitCopy?.source === 'measured' ? soak.exitCopy : undefined;
      // Without the remedy: as measured in the round it repeats (the same setting), else the advice's figure.
      const without =
        p.last.exitCopy?.source === 'measured' ? p.last.exitCopy : { bytes: p.advice.exitCopyBytes, source: p.advice.exitCopySource };
      const round = Math.max(0, ...records.filter((r) => r.variant === p.from.name).map((r) => r.round)) + 1;
      records.push({
        ...roundRecord(p.from.name, round, p.last.setting, p.last.args, p.last.limitBytes, soak),
        remedy: { text: remedy.text, exitCopyBytes: measured?.bytes ?? null, exits: measured?.count ?? 0, withoutBytes: without.bytes },
      });
      if (measured && measured.bytes < without.bytes / 4) {
        p.advice.remedy = { text: remedy.text, exitCopyBytes: measured.bytes, exits: measured.count };
        p.advice.text += `; to save the exit copy, ${remedy.text} (measured: a worker copied ${mib(measured.bytes)} at its exit instead of ${mib(without.bytes)}${without.source === 'predicted' ? ' (predicted)' : ''}, over ${measured.count} exit${measured.count === 1 ? '' : 's'})`;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line of a soak's progress bar, redrawn in place. */
export function soakBar(
  tag: string,
  st: { elapsedMs: number; durationMs: number; requests: number; totalPssBytes: number; peakPssBytes: number },
): string {
  const left = Math.max(0, (st.durationMs - st.elapsedMs) / 1000);
  const line = `${tag} soak ${progressBar(st.elapsedMs / st.durationMs)} ${(st.elapsedMs / 1000).toFixed(0)} s, ${left.toFixed(0)} s left, ${st.requests} requests, total PSS ${(st.totalPssBytes / 1048576).toFixed(1)} MiB (peak ${(st.peakPssBytes / 1048576).toFixed(1)})`;
  return `\r${line}\u001b[K${st.elapsedMs >= st.durationMs ? '\n' : ''}`;
}

/**
 * Progress as one line redrawn in place on a terminal (cut to its width), one line per stage when
 * piped. `clear` rubs the line out before anything else is written below it.
 */
export function statusLine(stream: NodeJS.WritableStream): { show(line: string): void; clear(): void } {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  let shown = false;
  return {
    show(line) {
      if (!tty) {
        stream.write(`${line}\n`);
        return;
      }
      const width = terminalWidth(stream) ?? 100;
      stream.write(`\r${line.length >= width ? `${line.slice(0, width - 2)}…` : line}\u001b[K`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}

/** What another command built on `run` (sweep) changes in it. */
export interface RunPlan {
  /** Rewrites the scenario before anything boots (checks included: throw a usage error). */
  prepare(scenario: Scenario): void;
  /** Called with the document after every run, before it is saved. */
  update(doc: ResultsDocument): void;
  /** Called after it is saved; may throw a usage error to stop the run (what is measured is kept). */
  guard?(doc: ResultsDocument): void;
  /** What the terminal shows at the end, instead of the run summary. */
  render(doc: ResultsDocument, width?: number): string;
}

/** `memcompare run`: validate, run, persist after every run, print. Resolves to the exit code. */
export async function runRunCommand(o: RunCommandOptions, io: Io, plan?: RunPlan): Promise<number> {
  if (o.scenario && o.command.length > 0) {
    throw badArgument('--command', o.command[0], `give either a scenario (${o.scenario}) or --command, not both`);
  }
  if (!o.scenario && o.command.length === 0) {
    throw new MemcompareError('BAD_ARGUMENT', "run: no scenario; name one (memcompare list) or pass --command '…{port}…'");
  }
  checkFlag('--runs', o.runs, LIMITS.runs);
  checkFlag('--port', o.port, LIMITS.port);
  let scenario: Scenario;
  let adapter: ServerFamily | undefined;
  if (o.scenario) {
    scenario = loadScenario(o.scenario);
    if (o.workers !== undefined) {
      checkFlag('--workers', o.workers, LIMITS.workers);
      scenario.workers = o.workers;
      scenario.detectWorkers = false;
    }
    if (o.port !== undefined) scenario.port = o.port;
  } else {
    ({ scenario, adapter } = adhocScenario(o));
  }
  if (o.soak !== undefined) {
    checkFlag('--soak', o.soak, LIMITS.soakSeconds);
    scenario.soak = { ...DEFAULT_SOAK, ...scenario.soak, durationSeconds: o.soak };
  }
  if (o.maxCpu !== undefined) {
    checkFlag('--max-cpu', o.maxCpu, LIMITS.maxCpuPercent);
    if (!scenario.soak) throw badArgument('--max-cpu', o.maxCpu, 'budgets the soak sampler: add --soak SECONDS');
    scenario.soak.maxCpuPercent = o.maxCpu;
  }
  if (o.warmupRequests !== undefined) {
    checkFlag('--warmup-requests', o.warmupRequests, LIMITS.warmupRequests);
    scenario.warmup.requests = o.warmupRequests;
    scenario.warmup.connections = Math.min(scenario.warmup.connections, o.warmupRequests);
    scenario.warmup.until = 'count';
  }
  if (o.warmupUntil !== undefined) {
    if (o.warmupUntil !== 'steady' && o.warmupUntil !== 'count') throw badArgument('--warmup-until', o.warmupUntil, 'use steady or count');
    scenario.warmup.until = o.warmupUntil;
  }
  let maxWorkerUssBytes: number | undefined;
  if (o.maxWorkerUss !== undefined) {
    maxWorkerUssBytes = parseSize(o.maxWorkerUss, '--max-worker-uss');
    if (!scenario.soak) throw badArgument('--max-worker-uss', o.maxWorkerUss, 'growth is measured during a soak: add --soak SECONDS');
    const family = adapter ?? familyNamed(scenario.server) ?? FALLBACK_FAMILY;
    if (!family.recycling)
      throw badArgument(
        '--max-worker-uss',
        o.maxWorkerUss,
        `${family.name} has no recycling setting; families with one: ${FAMILIES.filter((f) => f.recycling)
          .map((f) => f.name)
          .join(', ')} (${family.none.recycling})`,
      );
    if (!scenario.warmup.workerPidHeader)
      throw badArgument('--max-worker-uss', o.maxWorkerUss, 'growth per request needs the worker-pid header (warmup.workerPidHeader)');
  }
  if (o.verify) {
    if (maxWorkerUssBytes === undefined)
      throw badArgument('--verify', true, 'verifies the recycling advice: add --max-worker-uss SIZE and --soak SECONDS');
    const family = adapter ?? familyNamed(scenario.server) ?? FALLBACK_FAMILY;
    if (!family.recycling?.args)
      throw badArgument(
        '--verify',
        true,
        `${family.name}'s recycling setting is not a command-line argument (${family.recycling?.noArgs}); families it can verify: ${FAMILIES.filter(
          (f) => f.recycling?.args,
        )
          .map((f) => f.name)
          .join(', ')}`,
      );
  }
  plan?.prepare(scenario);
  if (o.untilDecided !== undefined) {
    if (o.baselineRef === undefined)
      throw badArgument('--until-decided', o.untilDecided, 'adds runs until base and head are told apart: add --baseline-ref REF');
    checkFlag('--until-decided', o.untilDecided, LIMITS.runs);
    const planned = o.runs ?? scenario.runs;
    if (o.untilDecided < planned)
      throw badArgument('--until-decided', o.untilDecided, `is the most runs per variant; give at least the planned ${planned} (--runs)`);
  }
  // Say so before anything boots: a half-hour run must not end in an unwritable path.
  if (o.json && o.json !== '-') checkWritable(o.json, '--json');
  if (o.markdown && o.markdown !== '-') checkWritable(o.markdown, '--markdown');
  if (o.html !== undefined) {
    if (o.html === '-') throw badArgument('--html', '-', 'the HTML report is one file: give it a path (or use report -f html)');
    checkWritable(o.html, '--html');
  }

  const jsonToStdout = o.json === '-';
  if (jsonToStdout && o.markdown === '-')
    throw badArgument('--markdown', '-', 'only one of --json and --markdown can go to stdout; give the other a file');
  // Whatever a machine reads goes to stdout alone; the human summary then goes to stderr.
  const human = jsonToStdout || o.markdown === '-' ? io.stderr : io.stdout;
  const progressOn = !o.quiet && (o.progress || (io.stderr as NodeJS.WriteStream).isTTY === true);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      killAllNow();
      process.exit(SIGNAL_EXIT[sig] ?? 143);
    }
    io.stderr.write(`\nmemcompare: ${sig} received; stopping the server and saving the runs finished so far (again to force)\n`);
    controller.abort(
      new MemcompareError('INTERRUPTED', `run interrupted by ${sig}; the runs finished so far are saved, marked incomplete`, {
        exitCode: SIGNAL_EXIT[sig] ?? 143,
      }),
    );
  };
  const signalNames = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signalNames) process.on(sig, onSignal);
  const removeSignalHandlers = () => {
    for (const sig of signalNames) process.off(sig, onSignal);
  };
  // Base and head in one run: every variant also measured in a worktree of the baseline ref.
  const baseTree = o.baselineRef === undefined ? undefined : openBaseTree(scenario.file ?? scenario.cwd, o.baselineRef);
  if (baseTree) scenario.variants = withBaseline(scenario.variants, scenario.cwd, baseTree);
  // However memcompare ends (a signal it does not handle included), its servers end with it, and the
  // base worktree is removed after them.
  const removeExitHook = onExit(() => {
    killAllNow();
    baseTree?.remove();
  });
  const lock = o.noLock
    ? undefined
    : await acquireHostLock({ wait: !o.noWait, say: (line) => io.stderr.write(`${line}\n`), signal: controller.signal }).catch((error) => {
        removeSignalHandlers();
        removeExitHook();
        baseTree?.remove();
        throw error;
      });
  let last: ResultsDocument | undefined;
  // A regular file is rewritten atomically after every run (an interrupted run loses nothing finished);
  // a FIFO or a device gets one document, the last, at the end: a reader of a FIFO reads one document.
  const jsonFile = o.json && o.json !== '-' ? o.json : undefined;
  const jsonStream = jsonFile !== undefined && isStreamOutput(jsonFile);
  const persist = (doc: ResultsDocument) => {
    last = doc;
    plan?.update(doc);
    if (jsonFile && !jsonStream) writeAtomic(jsonFile, `${JSON.stringify(doc, null, 2)}\n`);
    if (!doc.complete) plan?.guard?.(doc);
  };
  const finishStream = async (doc: ResultsDocument | undefined, interrupted: boolean) => {
    if (!jsonFile || !jsonStream || !doc) return;
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    // Interrupted: a signal must end memcompare within a second or two, reader or not.
    try {
      await writeOutput(
        jsonFile,
        text,
        interrupted ? { signal: AbortSignal.timeout(800), readerWaitMs: 250 } : { signal: controller.signal },
      );
    } catch (error) {
      // A signal while waiting for the FIFO's reader: the interruption is what is reported.
      if (!interrupted && controller.signal.aborted) throw controller.signal.reason;
      throw error;
    }
  };
  const status = statusLine(io.stderr);
  // A line of its own below the progress line (which is rubbed out first).
  const below = {
    write: (text: string) => {
      status.clear();
      return io.stderr.write(text);
    },
  } as NodeJS.WritableStream;
  const render = plan?.render ?? ((d: ResultsDocument, w?: number) => renderRunSummary(d, w, o.verbose));
  const summary = (doc: ResultsDocument) => render(doc, terminalWidth(human));
  try {
    const doc = await runScenario(scenario, {
      ...(adapter ? { adapter } : {}),
      ...(o.runs !== undefined ? { runs: o.runs } : {}),
      onUpdate: persist,
      onProgress: progressOn ? (line) => status.show(line) : undefined,
      // A soak's progress bar: on a terminal only.
      onSoakTick: !o.quiet && (io.stderr as NodeJS.WriteStream).isTTY === true ? (tag, st) => io.stderr.write(soakBar(tag, st)) : undefined,
      echo: o.showOutput ? io.stderr : undefined,
      ...(maxWorkerUssBytes !== undefined ? { maxWorkerUssBytes } : {}),
      ...(o.untilDecided !== undefined ? { moreRuns: untilDecided(o.untilDecided, progressOn ? below : undefined) } : {}),
      signal: controller.signal,
      version: toolVersion(),
    });
    if (o.verify && maxWorkerUssBytes !== undefined) {
      const verifyOptions = {
        ...(progressOn ? { onProgress: (line: string) => io.stderr.write(`${line}\n`) } : {}),
        signal: controller.signal,
        version: toolVersion(),
      };
      doc.verification = await verifyAdvice(doc, scenario, adapter, maxWorkerUssBytes, verifyOptions);
      persist(doc);
      const family = adapter ?? familyNamed(scenario.server);
      const more = { ...verifyOptions, ...(adapter ? { adapter } : {}) };
      await verifyMemorySetting(doc, scenario, family, maxWorkerUssBytes, doc.verification, more);
      persist(doc);
      await measureExitRemedy(doc, scenario, family, doc.verification, more);
      persist(doc);
    }
    await finishStream(doc, false);
    status.clear();
    human.write(summary(doc));
    if (jsonToStdout) io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    if (o.markdown) {
      const { writeExport } = await import('./report.js');
      await writeExport(doc, 'markdown', o.markdown, io);
    }
    if (o.html) {
      const { writeExport } = await import('./report.js');
      await writeExport(doc, 'html', o.html, io);
    }
    return 0;
  } catch (error) {
    status.clear();
    await finishStream(last, true).catch((e: unknown) => io.stderr.write(`memcompare: ${e instanceof Error ? e.message : String(e)}\n`));
    if (last?.variants.some((v) => v.runs.length > 0) && !jsonToStdout) {
      io.stderr.write(summary(last));
    }
    if (jsonToStdout && last) io.stdout.write(`${JSON.stringify(last, null, 2)}\n`);
    throw error;
  } finally {
    removeSignalHandlers();
    removeExitHook();
    killAllNow();
    lock?.release();
    baseTree?.remove();
  }
}

/**
 * `--until-decided MAX`: one more interleaved round while check's default gate leaves a row undecided
 * (its interval straddles the threshold), until MAX runs per variant (sequential, as Pinpoint does).
 */
export function untilDecided(max: number, say?: NodeJS.WritableStream): (doc: ResultsDocument, rounds: number) => boolean {
  return (doc, rounds) => {
    const split = splitByRevision(doc);
    if (!split) return false;
    const rows = evaluateGate(split.base, split.head, DEFAULT_GATE, true);
    const open = rows.filter((r) => r.verdict === 'inconclusive');
    if (open.length === 0) return false;
    const names = open.map((r) => `${r.variant} ${r.scope}`).join(', ');
    if (rounds >= max) {
      say?.write(
        `memcompare: ${open.length} of ${rows.length} gate rows still undecided after ${rounds} runs (--until-decided ${max}): ${names}\n`,
      );
      return false;
    }
    say?.write(`memcompare: ${open.length} of ${rows.length} gate rows undecided after ${rounds} runs (${names}); one more round\n`);
    return true;
  };
}
