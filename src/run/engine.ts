import { within } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { applyGiveBack } from '../results/give-back.js';
import { summarize } from '../results/summary.js';
import type { HostInfo, ResultsDocument, SoftwareInfo, VariantResult } from '../results/types.js';
import type { Scenario, Variant } from '../scenario/scenario.js';
import { familyNamed, type ServerFamily } from '../servers/registry.js';
import { emptyDocument } from './document.js';
import { measureOnce } from './measure.js';
import { realRunDeps } from './real.js';
import type { RunDeps } from './seams.js';
import { checkServices, type RunningService, startServices, stopServices } from './services.js';
import type { RunOptions } from './stages/context.js';
import { earlyImportsStage, modulesToMove } from './stages/early-imports.js';
import { importsStage } from './stages/imports.js';
import { commonDepth, firstRunDepth, replaceShallowRun, shallowVariants } from './stages/steady.js';

export type { RunOptions } from './stages/context.js';

/** The order of a scenario's runs: variants interleaved (A B A B …) so that drift on the host hits all alike. */
export function runOrder(variants: number, runs: number): { run: number; variant: number }[] {
  const order: { run: number; variant: number }[] = [];
  for (let run = 1; run <= runs; run++) for (let variant = 0; variant < variants; variant++) order.push({ run, variant });
  return order;
}

/**
 * Runs a scenario: every run of every variant, interleaved; the output sink (`onUpdate`) gets the
 * document after every run, and once more at the end, marked incomplete (with the reason) when the
 * run was interrupted or failed. It only schedules — variants, runs, companion services, the host
 * lookup, interrupts; what a run does is measure.ts and its stages. `deps` is the whole world it
 * touches (the real one by default; a scripted one in unit tests takes the same path).
 */
export async function runScenario(scenario: Scenario, o: RunOptions = {}, deps: RunDeps = realRunDeps): Promise<ResultsDocument> {
  const family = o.family ?? (familyNamed(scenario.server) as ServerFamily);
  const runs = o.runs ?? scenario.runs;
  const emit = o.onEvent ?? (() => {});
  // Host metadata is gathered while the first server boots (systeminformation is slow to load and ask).
  let hostPromise: Promise<HostInfo> | undefined;
  const host = () => {
    hostPromise ??= new Promise<void>((r) => setImmediate(r)).then(() => deps.host.info(family.versionCommand));
    return hostPromise;
  };
  const doc = emptyDocument(scenario, family, runs, o.version ?? '0.0.0', deps.clock.date());
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
      emit({ stage: 'services', starting: scenario.services.map((s) => s.name) });
      services = await startServices(scenario.services, scenario.cwd, deps, o.signal);
      emit({ stage: 'services', ready: services.map((s) => ({ name: s.name, port: s.port, pid: s.server.pid })) });
    }
    const ports = Object.fromEntries(services.map((s) => [s.name, s.port]));
    // The planned rounds, then any the caller adds (each a whole round: every variant, interleaved).
    let planned = runs;
    const order: { run: number; variant: number; again?: boolean }[] = runOrder(scenario.variants.length, runs);
    // With `until: steady`: the depth every run is warmed to, once every variant's first run has found its own.
    let depth: number | undefined;
    const steady = scenario.warmup.until === 'steady';
    host().catch(() => {});
    for (let k = 0; k < order.length; k++) {
      const { run, variant: vi, again } = order[k] as { run: number; variant: number; again?: boolean };
      const variant = scenario.variants[vi] as Variant;
      checkServices(services);
      // The host lookups run the server's own interpreter (its version, its packages): while a process maps the
      // server's files, their pages are shared and the server's PSS and USS move (a bare python3 beside a
      // preloaded master took ~390 kB of its USS). They run while a server boots; the warm-up waits for them.
      const helpers = Promise.all([hostPromise, software].map((p) => p?.catch(() => {})));
      const measuring = measureOnce({
        scenario,
        // A variant of another family (one server against another) is stopped and read its own way.
        family: variant.server ? (familyNamed(variant.server) ?? family) : family,
        variant,
        index: run,
        options: o,
        deps,
        tag: `[${variant.name} ${run}/${planned}${again ? ', again at the common depth' : ''}]`,
        ...(depth !== undefined ? { targetRequestsPerWorker: depth } : {}),
        ...(steady && depth === undefined ? firstRunDepth(variants, vi) : {}),
        ...(again && variants[vi]?.runs[0]?.throughput ? { keepsThroughput: true } : {}),
        emit,
        previousGone: Promise.all([previousGone, helpers]),
        previousStopping: () => previousStopping,
        services: ports,
      });
      const { record, stopped, exe } = await measuring;
      previousGone = stopped;
      previousStopping = true;
      const done = () => {
        if (previousGone === stopped) previousStopping = false;
      };
      stopped.then(done, done);
      // The interpreter and its packages, asked once, while the next server boots.
      software ??= deps.host.software(exe).catch(() => undefined);
      checkServices(services);
      if (again) replaceShallowRun(variants[vi] as VariantResult, record);
      else (variants[vi] as VariantResult).runs.push(record);
      if (depth === undefined && steady && variants.every((v) => v.runs.length > 0)) {
        depth = commonDepth(variants);
        order.splice(k + 1, 0, ...shallowVariants(variants, depth).map((v) => ({ run: 1, variant: v, again: true })));
      }
      // With no declared count, the document's count is what the first run found.
      if (scenario.detectWorkers && vi === 0 && run === 1) doc.scenario.workers = record.workerCount?.count ?? doc.scenario.workers;
      if (doc.host.os === '') doc.host = await host();
      refresh();
      o.onUpdate?.(doc);
      // A throughput phase cut by an interrupt returns its run (the memory was measured): saved above, then stop.
      o.signal?.throwIfAborted();
      if (k === order.length - 1 && o.moreRuns?.(doc, run)) {
        planned = run + 1;
        doc.scenario.runs = planned;
        order.push(...runOrder(scenario.variants.length, 1).map((x) => ({ ...x, run: planned })));
      }
    }
    if (o.imports) {
      // One probed boot per variant, after the measured runs (they stay untouched), in the variants' order.
      for (const [vi, variant] of scenario.variants.entries()) {
        const probed = await importsStage({
          scenario,
          family: variant.server ? (familyNamed(variant.server) ?? family) : family,
          variant,
          index: (variants[vi]?.runs.length ?? 0) + 1,
          options: o,
          deps,
          tag: `[${variant.name} imports]`,
          ...(depth !== undefined ? { targetRequestsPerWorker: depth } : {}),
          emit,
          previousGone,
          previousStopping: () => false,
          services: ports,
        });
        previousGone = probed.stopped;
        (variants[vi] as VariantResult).imports = probed.record;
        o.onUpdate?.(doc);
      }
      // The predictions less what copy-on-write gives back, from the measured runs' breakdowns.
      applyGiveBack(variants);
      // The advice applied and verified: each variant whose workers imported enough after the fork, again with
      // those modules imported before it, as many runs as the others had.
      for (const [vi, variant] of scenario.variants.entries()) {
        const source = variants[vi] as VariantResult;
        const modules = modulesToMove(source.imports);
        if (modules.length === 0 || variant.revision || variant.point) continue;
        const applied = await earlyImportsStage(
          {
            scenario,
            family: variant.server ? (familyNamed(variant.server) ?? family) : family,
            variant,
            index: 1,
            options: o,
            deps,
            tag: `[${variant.name}+early-imports]`,
            ...(depth !== undefined ? { targetRequestsPerWorker: depth } : {}),
            emit,
            previousGone,
            previousStopping: () => false,
            services: ports,
          },
          source,
          modules,
          source.runs.length,
        );
        previousGone = applied.stopped;
        variants.push(applied.result);
        refresh();
        o.onUpdate?.(doc);
      }
    }
    await previousGone;
    await withSoftware();
    doc.complete = true;
    doc.finishedAt = deps.clock.date().toISOString();
    refresh();
    o.onUpdate?.(doc);
    return doc;
  } catch (error) {
    // Interrupted: the previous server has had its stop signal since its run ended; what is left is SIGKILLed.
    if (o.signal?.aborted) deps.launcher.killAll();
    await previousGone.catch(() => {});
    doc.complete = false;
    doc.finishedAt = deps.clock.date().toISOString();
    doc.incompleteReason = error instanceof Error ? error.message : String(error);
    // Host facts if they come quickly: a signal must end memcompare within a second or two.
    if (doc.host.os === '')
      doc.host = await within(
        host().catch(() => doc.host),
        500,
        () => doc.host,
        deps.clock,
      );
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
    await stopServices(services, deps);
  }
}
