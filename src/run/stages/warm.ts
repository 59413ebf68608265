import { MemcompareError } from '../../errors.js';
import type { WarmupResult } from '../../results/types.js';
import { routeSettings, splitByWeight } from '../routes.js';
import { sendRound, warmUp } from '../warm.js';
import type { Booted, RunContext } from './context.js';

/** The warm-up (or a re-warm) of these workers, in the run's protocol. */
export function warmWorkers(ctx: RunContext, b: Booted, workerPids: number[], settings = b.warmup): Promise<WarmupResult> {
  return warmUp(b.port, settings, workerPids, ctx.options.signal, { load: b.load, proc: ctx.deps.proc });
}

/**
 * Stage 3, warm: the scenario's requests, every worker proved to have served. Answers that all say the
 * input is bad (the protocol's own words), or a warm-up command printing pids that are no worker's, are
 * bad input, not a measurement.
 */
export async function warmStage(ctx: RunContext, b: Booted, workerPids: number[]): Promise<WarmupResult> {
  // Several routes: each gets its share of the warm-up's requests by weight, the first through the warm-up proper (which
  // proves every worker served). The first got all of them once: 30 and 15 for two routes of equal weight.
  const routes = b.warmup.routes ?? [];
  const shares = routes.length > 1 ? splitByWeight(routes, b.warmup.requests) : [];
  const first = routes[0] && routes.length > 1 ? { ...routeSettings(b.warmup, routes[0]), requests: shares[0] as number } : b.warmup;
  const warmup = await warmWorkers(ctx, b, workerPids, first);
  if (routes.length > 1) {
    for (const [i, route] of routes.entries()) {
      if (i === 0) continue;
      const r = await sendRound(b.port, routeSettings(b.warmup, route), shares[i] as number, ctx.options.signal, b.load);
      warmup.requests += r.requests;
      for (const [code, n] of Object.entries(r.statusCodes)) warmup.statusCodes[code] = (warmup.statusCodes[code] ?? 0) + n;
    }
  }
  const refused = b.protocol.refused?.(b.warmup, warmup.requests, warmup.statusCodes);
  if (refused !== undefined) throw new MemcompareError('BAD_ARGUMENT', refused);
  strangerPids(ctx.scenario.warmup.command, warmup, workerPids);
  return warmup;
}

/** A warm-up command must print the pids of the tree's workers: none, or others, is bad input. */
function strangerPids(command: string[] | undefined, w: WarmupResult, workers: readonly number[]): void {
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
