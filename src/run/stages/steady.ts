import type { Route, RunRecord, SteadyRecord, VariantResult, WarmupResult } from '../../results/types.js';
import type { ReadyRecord } from '../ready.js';
import { routeSettings, splitByWeight } from '../routes.js';
import { STEADY, warmOnBudgetMs, warmUntilSteady } from '../steady.js';
import { sendRound } from '../warm.js';
import type { Booted, RunContext } from './context.js';

/**
 * Stage 3b (warmup.until = steady, the default): rounds of growing size until the workers' private memory
 * grows less than a threshold per request (run/steady.ts) — a real app's workers keep growing for hundreds
 * of requests (caches, lazy loading), and are measured warm, not at an arbitrary count.
 */
export async function steadyStage(ctx: RunContext, b: Booted, ready: ReadyRecord, first: WarmupResult): Promise<SteadyRecord> {
  const { deps } = ctx;
  const record = await warmUntilSteady(
    {
      requests: b.warmup.requests,
      connections: b.warmup.connections,
      workers: ready.workerPids.length,
      servedSoFar: first.requests + (first.topUp?.requests ?? 0),
      ...(ctx.targetRequestsPerWorker !== undefined ? { targetRequestsPerWorker: ctx.targetRequestsPerWorker } : {}),
      ...(ctx.minRequestsPerWorker !== undefined ? { minRequestsPerWorker: ctx.minRequestsPerWorker } : {}),
      ...(ctx.warmOn ? { warmOnMs: warmOnBudgetMs(ready.bootMs) } : {}),
    },
    {
      clock: deps.clock,
      look: () => {
        const s = deps.memory.sample(b.server, ctx.family);
        const ussByPid = new Map(s.processes.filter((p) => p.role === 'worker').map((p) => [p.pid, p.ussBytes]));
        return { ussByPid, totalPssBytes: s.snapshot.totals.pssBytes };
      },
      round: async (amount) => {
        const settings = { ...b.warmup, connections: Math.min(b.warmup.connections, STEADY.inFlight) };
        // Several routes: the round is the mix, each route its share of it in turn.
        const routes = b.warmup.routes && b.warmup.routes.length > 1 ? b.warmup.routes : undefined;
        const parts = routes
          ? splitByWeight(routes, amount).map((n, i) => [routeSettings(settings, routes[i] as Route), n] as const)
          : [[settings, amount] as const];
        let requests = 0;
        const perWorker: Record<string, number> = {};
        for (const [s, n] of parts) {
          const r = await sendRound(b.port, s, n, ctx.options.signal, b.load);
          requests += r.requests;
          for (const [pid, k] of Object.entries(r.perWorker)) perWorker[pid] = (perWorker[pid] ?? 0) + k;
        }
        return Object.keys(perWorker).length > 0 ? { requests, perWorker } : { requests };
      },
    },
  );
  ctx.emit({ stage: 'steady', tag: ctx.tag, record });
  return record;
}

/** How near a variant's first depth must be to the common one to count as at it (the ladders of two worker counts differ a little). */
const SAME_DEPTH = 0.05;

function depthOf(run: RunRecord | undefined): number | undefined {
  return run?.warmup.steady?.requestsPerWorker;
}

/** The depth every variant is measured at: the deepest that any variant's first run warmed to. */
export function commonDepth(variants: readonly VariantResult[]): number | undefined {
  const depths = variants.map((v) => depthOf(v.runs[0])).filter((d): d is number => d !== undefined);
  return depths.length > 0 ? Math.max(...depths) : undefined;
}

/**
 * How a first run is warmed while the common depth is not known yet: at least to the deepest depth that earlier
 * variants' first runs reached (so that it is not run again for being shallower); the first variant's first run
 * warms on past steady while rounds are cheap (so that the others' depth is likely reached without booting it again).
 */
export function firstRunDepth(variants: readonly VariantResult[], index: number): { minRequestsPerWorker?: number; warmOn?: boolean } {
  const earlier = commonDepth(variants.filter((v, i) => i !== index && v.runs.length > 0));
  if (earlier !== undefined) return { minRequestsPerWorker: earlier };
  return variants.length > 1 && index === 0 ? { warmOn: true } : {};
}

/** The variants whose first run stopped shallower than the common depth: each is run again to it. */
export function shallowVariants(variants: readonly VariantResult[], depth: number | undefined): number[] {
  if (depth === undefined) return [];
  return variants.flatMap((v, i) => {
    const d = depthOf(v.runs[0]);
    return d !== undefined && d < depth * (1 - SAME_DEPTH) ? [i] : [];
  });
}

/** The run again at the common depth takes the place of the shallow first run, and remembers its depth. */
export function replaceShallowRun(variant: VariantResult, again: RunRecord): void {
  const shallow = depthOf(variant.runs[0]);
  if (again.warmup.steady && shallow !== undefined) again.warmup.steady.replacedDepth = shallow;
  // The throughput phase is kept from the first boot (RunContext.keepsThroughput).
  const kept = variant.runs[0]?.throughput;
  variant.runs[0] = again.throughput === undefined && kept ? { ...again, throughput: kept } : again;
}
