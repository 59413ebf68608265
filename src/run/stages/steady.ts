import type { SteadyRecord, WarmupResult } from '../../results/types.js';
import type { ReadyRecord } from '../ready.js';
import { STEADY, warmUntilSteady } from '../steady.js';
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
        const r = await sendRound(b.port, settings, amount, ctx.options.signal, b.load);
        return Object.keys(r.perWorker).length > 0 ? { requests: r.requests, perWorker: r.perWorker } : { requests: r.requests };
      },
    },
  );
  ctx.emit({ stage: 'steady', tag: ctx.tag, record });
  return record;
}
