import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { within } from '../../clock.js';
import { protocolOf } from '../../protocols/registry.js';
import type { WarmupSettings, WorkerCountSource } from '../../results/types.js';
import { expandCommand } from '../../scenario/argv.js';
import type { Scenario, Variant } from '../../scenario/scenario.js';
import type { Booted, RunContext } from './context.js';
import { copyApp } from './reload.js';

function variantCommand(scenario: Scenario, variant: Variant, port: number, config?: string, services?: Record<string, number>): string[] {
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

/** Workers a variant should have: declared, read from its command, or (undefined) detected. */
function expectedWorkers(
  ctx: RunContext,
  argv: string[],
  env: Record<string, string>,
): { count: number | undefined; source: WorkerCountSource } {
  if (ctx.variant.workers !== undefined) return { count: ctx.variant.workers, source: 'declared' };
  if (!ctx.scenario.detectWorkers) return { count: ctx.scenario.workers, source: 'declared' };
  const fromCommand = ctx.family.workersFromCommand(argv, { ...process.env, ...env }, ctx.variant.cwd ?? ctx.scenario.cwd);
  return fromCommand === undefined ? { count: undefined, source: 'detected' } : { count: fromCommand, source: 'command' };
}

/** The warm-up's settings for a run: a command's placeholders filled in ({services.NAME.port}). */
function warmupFor(ctx: RunContext): WarmupSettings {
  const w = ctx.scenario.warmup;
  if (!w.command) return w;
  const command = expandCommand(w.command, { port: 0, workers: ctx.scenario.workers, app: ctx.scenario.cwd, services: ctx.services });
  return { ...w, command };
}

/** Stage 1, launch: a port, the command filled in, the server started (in a copy of the app for a reload). */
export async function launchStage(ctx: RunContext): Promise<Booted> {
  const { scenario, variant, deps } = ctx;
  const port = scenario.port ?? (await deps.launcher.freePort());
  if (scenario.port === undefined) deps.launcher.assertPortFree(port);
  else await fixedPortFree(ctx, port);
  const filled = fillConfig(scenario, variant, port);
  const asked = variantCommand(scenario, variant, port, filled?.path, ctx.services);
  // What the family adds for a run (its pid file and log in a folder of the run's, removed with the configuration).
  const runDir = ctx.family.launchArgs ? mkdtempSync(join(tmpdir(), 'memcompare-server-')) : undefined;
  const argv = runDir && ctx.family.launchArgs ? ctx.family.launchArgs(asked, runDir) : asked;
  const config = runDir
    ? {
        path: filled?.path ?? runDir,
        remove: () => {
          filled?.remove();
          rmSync(runDir, { recursive: true, force: true });
        },
      }
    : filled;
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
  const errorLog = ctx.family.errorLogFromCommand?.(argv, cwd);
  const request = {
    argv,
    cwd,
    env,
    ...(ctx.options.echo ? { echo: ctx.options.echo } : {}),
    ...(errorLog ? { errorLog } : {}),
    ...(ctx.family.daemonizes ? { subreaper: true } : {}),
    folders: [runDir, filled ? dirname(filled.path) : undefined, appCopy?.dir].filter((d): d is string => d !== undefined),
  };
  const server = await deps.launcher.launch(request).catch((error) => {
    appCopy?.remove();
    config?.remove();
    throw error;
  });
  ctx.emit({ stage: 'launch', tag: ctx.tag, pid: server.pid, port, argv });
  const warmup = warmupFor(ctx);
  const protocol = protocolOf(warmup);
  // A warm-up command sees the variant's environment (a broker's URL, the services' ports), as the server does.
  const load = protocol.load(warmup, deps.wire, { cwd: scenario.cwd, env });
  return { server, port, argv, env, expected, appCopy, config, before, warmup, protocol, load };
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
  ctx.emit({ stage: 'port-wait', tag: ctx.tag, port });
  await within(
    ctx.previousGone.catch(() => {}),
    PREVIOUS_STOP_MS,
    () => undefined,
    deps.clock,
    ctx.options.signal,
  );
  const deadline = deps.clock.now() + PORT_RELEASE_MS;
  for (;;) {
    const error = taken();
    if (error === undefined) return;
    if (deps.clock.now() >= deadline) throw error;
    await deps.clock.sleep(50, ctx.options.signal);
  }
}
