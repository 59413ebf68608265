import type { RunRecord, SoakRecord } from '../results/types.js';
import type { RunContext } from './stages/context.js';
import { launchStage } from './stages/launch.js';
import { readyStage } from './stages/ready.js';
import { reforkStage } from './stages/refork.js';
import { reloadStage } from './stages/reload.js';
import { sampleStage } from './stages/sample.js';
import { settleStage } from './stages/settle.js';
import { soakStage } from './stages/soak.js';
import { steadyStage } from './stages/steady.js';
import { abortStage, stopStage } from './stages/stop.js';
import { throughputStage } from './stages/throughput.js';
import { warmStage } from './stages/warm.js';

/**
 * One run of one variant: launch → ready → warm → (steady) → (soak) → settle → (refork) → sample → throughput → (reload) → stop,
 * each a module of stages/. The previous server may still be shutting down while this one boots
 * (preloaded Python workers take seconds to exit); `previousGone` is awaited before the warm-up, so no
 * dying process shares pages with, or takes CPU from, what is measured. Returns with the server
 * stopping: `stopped` settles when all of its processes are gone.
 */
export async function measureOnce(ctx: RunContext): Promise<{ record: RunRecord; stopped: Promise<unknown>; exe: string | undefined }> {
  const { deps, scenario, family } = ctx;
  const startedAt = deps.clock.date().toISOString();
  const t0 = deps.clock.now();
  const b = await launchStage(ctx);
  try {
    const ready = await readyStage(ctx, b);
    // The interpreter: the launched process's, or under memcompare's subreaper (run/subreaper.ts) a worker's.
    const exe = deps.memory.exe(b.server.wrapped ? (ready.workerPids[0] ?? b.server.pid) : b.server.pid);
    await ctx.previousGone;
    const workerCount = ready.workerPids.length;
    const warmup = await warmStage(ctx, b, ready.workerPids);
    if (scenario.warmup.until === 'steady') warmup.steady = await steadyStage(ctx, b, ready, warmup);
    ctx.emit({ stage: 'warm', tag: ctx.tag, warmup, ...(scenario.soak ? { soakSeconds: scenario.soak.durationSeconds } : {}) });
    const sampleNow = () => deps.memory.sample(b.server, family);
    const soaked: SoakRecord | undefined = scenario.soak ? await soakStage(ctx, b, sampleNow, workerCount, warmup) : undefined;
    const firstGeneration = await settleStage(ctx, b, ready, warmup, sampleNow, soaked);
    // A variant with `refork`: the generation forked anew from a warm worker is what is measured.
    const reforked = ctx.variant.refork ? await reforkStage(ctx, b, firstGeneration) : undefined;
    const settled = reforked ? { ...firstGeneration, ...reforked.settled } : firstGeneration;
    const measured = sampleStage(ctx, b, settled, workerCount, soaked);
    ctx.emit({ stage: 'sample', tag: ctx.tag, totalPssBytes: settled.sample.snapshot.totals.pssBytes });
    const wallMs = deps.clock.now() - t0;
    // After the sample (its load must not move what was measured), before a reload (which replaces the workers).
    const throughput = ctx.keepsThroughput ? undefined : await throughputStage(ctx, b);
    const reload = scenario.reload && b.appCopy && !throughput?.cut ? await reloadStage(ctx, b, settled.sample) : undefined;
    const stopped = stopStage(ctx, b);
    return {
      stopped,
      exe,
      record: {
        index: ctx.index,
        startedAt,
        port: b.port,
        masterPid: b.server.pid,
        bootMs: ready.bootMs,
        wallMs,
        workerCount: { count: workerCount, source: b.expected.source },
        processes: measured.processes,
        totals: measured.totals,
        skipped: measured.skipped,
        warmup: settled.warmup,
        settle: settled.settleRecord,
        mappings: measured.mappings,
        ...(soaked ? { soak: soaked } : {}),
        ...(reload ? { reload } : {}),
        ...(reforked ? { refork: reforked.record } : {}),
        ...(throughput ? { throughput } : {}),
        ...(measured.container ? { container: measured.container } : {}),
        ...(measured.observer ? { observer: measured.observer } : {}),
        ...(measured.sharedConnections ? { sharedConnections: measured.sharedConnections } : {}),
        warnings: measured.warnings,
      },
    };
  } catch (error) {
    await abortStage(ctx, b);
    throw error;
  }
}
