import type { RunRecord, SoakRecord, WarmupResult } from '../../results/types.js';
import type { ReadyRecord } from '../ready.js';
import { settle } from '../settle.js';
import type { TreeSample } from '../tree-sample.js';
import type { Booted, RunContext } from './context.js';
import { warmWorkers } from './warm.js';

/** Re-warms and re-settles at most this many times when workers were replaced since the warm-up. */
const REWARMS = 2;

/**
 * Stage 5, settle: the tree sampled until its total PSS holds still. A worker that died and was replaced
 * since the warm-up has served nothing: measuring it would understate memory. The new ones are warmed and
 * the tree settled again (bounded), and the run says so.
 */
export async function settleStage(
  ctx: RunContext,
  b: Booted,
  ready: ReadyRecord,
  warmup: WarmupResult,
  sampleNow: () => TreeSample,
  soaked?: SoakRecord,
): Promise<{ sample: TreeSample; settleRecord: RunRecord['settle']; warmup: WarmupResult; replaced: number[] }> {
  const { scenario, deps } = ctx;
  const signal = ctx.options.signal;
  const target = { server: b.server, sample: sampleNow };
  const workerCount = ready.workerPids.length;
  let { sample, record } = await settle(target, workerCount, scenario.settle, signal, deps.clock);
  ctx.emit({ stage: 'settle', tag: ctx.tag, settled: record.settled, samples: record.samples });
  // Warm: the workers of the warm-up, and any that served during a soak (a worker the server recycled
  // under the soak's load is replaced by one that served it next; warming it again would add requests,
  // and recycling, that no stage counts).
  const servedInSoak = (soaked?.timeline.processes ?? []).filter((p) => p.served?.some((n) => (n ?? 0) > 0)).map((p) => p.pid);
  const warmed = new Set([...ready.workerPids, ...servedInSoak]);
  const replaced: number[] = [];
  let last = warmup;
  for (let retry = 0; retry < REWARMS; retry++) {
    const fresh = sample.processes.filter((p) => p.role === 'worker' && !warmed.has(p.pid)).map((p) => p.pid);
    if (fresh.length === 0) break;
    replaced.push(...fresh);
    ctx.emit({ stage: 'rewarm', tag: ctx.tag, workers: fresh });
    const workerPids = sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
    last = await warmWorkers(ctx, b, workerPids);
    for (const pid of workerPids) warmed.add(pid);
    ({ sample, record } = await settle(target, workerCount, scenario.settle, signal, deps.clock));
  }
  // A re-warm of replaced workers keeps the depth the first warm-up reached on record.
  const kept = last !== warmup && warmup.steady ? { ...last, steady: warmup.steady } : last;
  return { sample, settleRecord: record, warmup: kept, replaced };
}
