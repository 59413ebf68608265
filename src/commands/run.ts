import { onExit } from 'signal-exit';
import { untilDecided } from '../check/until-decided.js';
import { badArgument, type ExitCodeValue, MemcompareError } from '../errors.js';
import type { Io } from '../memory.js';
import { toolVersion } from '../paths.js';
import { checkWritable, isStreamOutput, writeAtomic, writeOutput } from '../persist.js';
import { progressLine, progressText, soakBar } from '../render/progress.js';
import { renderRunSummary } from '../render/terminal.js';
import { terminalWidth } from '../render/width.js';
import type { RunEvent } from '../results/events.js';
import type { ResultsDocument } from '../results/types.js';
import { runScenario } from '../run/engine.js';
import { acquireHostLock } from '../run/lock.js';
import { realRunDeps } from '../run/real.js';
import { verifyStage } from '../run/stages/verify.js';
import { killAllNow } from '../run/stop.js';
import { openBaseTree, withBaseline } from '../run/worktree.js';
import { adhocScenario } from '../scenario/adhoc.js';
import { checkFlag, DEFAULT_THROUGHPUT, LIMITS } from '../scenario/limits.js';
import { withReforks } from '../scenario/replacing.js';
import { parsePathSpec, withRoutes } from '../scenario/routes.js';
import { DEFAULT_SOAK, loadScenario, type Scenario } from '../scenario/scenario.js';
import { FALLBACK_FAMILY, FAMILIES, familyNamed, type ServerFamily } from '../servers/registry.js';
import { parseSize } from './check.js';
import type { FlagValues, RUN_FLAGS } from './flags.js';

export { untilDecided } from '../check/until-decided.js';
export { adhocScenario } from '../scenario/adhoc.js';

/** `memcompare run`'s options: its flag table (flags.ts) and the scenario positional. */
export type RunCommandOptions = FlagValues<typeof RUN_FLAGS> & { scenario: string | undefined };

/** 128 + the signal's number, as a shell reports a process killed by it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, ExitCodeValue>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

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
  let family: ServerFamily | undefined;
  if (o.scenario) {
    scenario = loadScenario(o.scenario);
    if (o.workers !== undefined) {
      checkFlag('--workers', o.workers, LIMITS.workers);
      scenario.workers = o.workers;
      scenario.detectWorkers = false;
    }
    if (o.port !== undefined) scenario.port = o.port;
  } else {
    ({ scenario, family } = adhocScenario(o));
  }
  if (o.refork) scenario.variants = withReforks(scenario);
  if (o.soak !== undefined) {
    checkFlag('--soak', o.soak, LIMITS.soakSeconds);
    scenario.soak = { ...DEFAULT_SOAK, ...scenario.soak, durationSeconds: o.soak };
  }
  if (o.maxCpu !== undefined) {
    checkFlag('--max-cpu', o.maxCpu, LIMITS.maxCpuPercent);
    if (!scenario.soak) throw badArgument('--max-cpu', o.maxCpu, 'budgets the soak sampler: add --soak SECONDS');
    scenario.soak.maxCpuPercent = o.maxCpu;
  }
  if (o.noThroughput) {
    for (const [flag, value] of [
      ['--throughput-duration', o.throughputDuration],
      ['--throughput-connections', o.throughputConnections],
    ] as const) {
      if (value !== undefined) throw badArgument(flag, value, 'sets the throughput phase that --no-throughput turns off: give one of them');
    }
    delete scenario.throughput;
  } else if (o.throughputDuration !== undefined || o.throughputConnections !== undefined) {
    checkFlag('--throughput-duration', o.throughputDuration, LIMITS.throughputSeconds);
    checkFlag('--throughput-connections', o.throughputConnections, LIMITS.throughputConnections);
    scenario.throughput = {
      ...DEFAULT_THROUGHPUT,
      ...scenario.throughput,
      ...(o.throughputDuration !== undefined ? { durationSeconds: o.throughputDuration } : {}),
      ...(o.throughputConnections !== undefined ? { connections: o.throughputConnections } : {}),
    };
  }
  if (o.warmupRequests !== undefined) {
    checkFlag('--warmup-requests', o.warmupRequests, LIMITS.warmupRequests);
    scenario.warmup.requests = o.warmupRequests;
    scenario.warmup.connections = Math.min(scenario.warmup.connections, o.warmupRequests);
    scenario.warmup.until = 'count';
  }
  if (o.path !== undefined && o.path.length > 0) {
    const routes = o.path.map((spec) => {
      const r = parsePathSpec(String(spec));
      if ('error' in r) throw badArgument('--path', spec, r.error);
      return r;
    });
    withRoutes(scenario.warmup, routes, (_field, _value, fix) => {
      throw badArgument('--path', o.path?.join(' '), fix.replace('remove them', 'remove --path'));
    });
  }
  if (o.warmupUntil !== undefined) {
    if (o.warmupUntil !== 'steady' && o.warmupUntil !== 'count') throw badArgument('--warmup-until', o.warmupUntil, 'use steady or count');
    scenario.warmup.until = o.warmupUntil;
  }
  let maxWorkerUssBytes: number | undefined;
  if (o.maxWorkerUss !== undefined) {
    maxWorkerUssBytes = parseSize(o.maxWorkerUss, '--max-worker-uss');
    if (!scenario.soak) throw badArgument('--max-worker-uss', o.maxWorkerUss, 'growth is measured during a soak: add --soak SECONDS');
    const own = family ?? familyNamed(scenario.server) ?? FALLBACK_FAMILY;
    if (!own.recycling)
      throw badArgument(
        '--max-worker-uss',
        o.maxWorkerUss,
        `${own.name} has no recycling setting; families with one: ${FAMILIES.filter((f) => f.recycling)
          .map((f) => f.name)
          .join(', ')} (${own.none.recycling})`,
      );
    if (!scenario.warmup.workerPidHeader)
      throw badArgument('--max-worker-uss', o.maxWorkerUss, 'growth per request needs the worker-pid header (warmup.workerPidHeader)');
  }
  if (o.verify) {
    if (maxWorkerUssBytes === undefined)
      throw badArgument('--verify', true, 'verifies the recycling advice: add --max-worker-uss SIZE and --soak SECONDS');
    const own = family ?? familyNamed(scenario.server) ?? FALLBACK_FAMILY;
    if (!own.recycling?.args)
      throw badArgument(
        '--verify',
        true,
        `${own.name}'s recycling setting is not a command-line argument (${own.recycling?.noArgs}); families it can verify: ${FAMILIES.filter(
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
  const status = progressLine(io.stderr);
  const soakTicks = !o.quiet && (io.stderr as NodeJS.WriteStream).isTTY === true;
  // Stages emit events; the terminal shows them as one line redrawn in place, a soak as its bar.
  const onEvent = (e: RunEvent) => {
    if (e.stage === 'soak-tick') {
      if (soakTicks) io.stderr.write(soakBar(e.tag, e.tick));
      return;
    }
    const line = progressText(e);
    if (progressOn && line !== undefined) status.show(line);
  };
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
      ...(family ? { family } : {}),
      ...(o.runs !== undefined ? { runs: o.runs } : {}),
      onUpdate: persist,
      onEvent,
      echo: o.showOutput ? io.stderr : undefined,
      ...(maxWorkerUssBytes !== undefined ? { maxWorkerUssBytes } : {}),
      ...(o.imports ? { imports: true } : {}),
      ...(o.untilDecided !== undefined ? { moreRuns: untilDecided(o.untilDecided, progressOn ? below : undefined) } : {}),
      signal: controller.signal,
      version: toolVersion(),
    });
    if (o.verify && maxWorkerUssBytes !== undefined) {
      // The verifying soaks' progress: a line each, below the summary's place.
      const verifyEvent = (e: RunEvent) => {
        const line = progressText(e);
        if (progressOn && line !== undefined) io.stderr.write(`${line}\n`);
      };
      const options = {
        deps: realRunDeps,
        signal: controller.signal,
        version: toolVersion(),
        onEvent: verifyEvent,
        ...(family ? { family } : {}),
      };
      await verifyStage(doc, scenario, maxWorkerUssBytes, options, persist);
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
