import type { RunRecord, SoakRecord, WarmupResult } from '../../results/types.js';
import { diagnose } from '../diagnose.js';
import type { TreeSample } from '../tree-sample.js';
import type { Booted, RunContext } from './context.js';

/**
 * Stage 6, sample: what the settled sample says — where the memory is (full smaps of the master and
 * workers, at this final sample only), the memory cgroup, and the warnings with their remedies.
 */
export function sampleStage(
  ctx: RunContext,
  b: Booted,
  settled: { sample: TreeSample; settleRecord: RunRecord['settle']; warmup: WarmupResult; replaced: number[] },
  workerCount: number,
  soaked?: SoakRecord,
): Pick<RunRecord, 'processes' | 'totals' | 'skipped' | 'mappings' | 'warnings' | 'container' | 'observer' | 'sharedConnections'> {
  const { deps, scenario } = ctx;
  const { sample } = settled;
  const pids = new Set(sample.processes.map((p) => p.pid));
  const mappings = deps.memory.breakdown(sample.processes);
  const container = deps.memory.container?.(b.server.pid, pids);
  const roles = new Map(sample.processes.map((p) => [p.pid, p.role]));
  const sharedConnections = deps.memory.sharedConnections?.(roles) ?? [];
  const warnings = diagnose({
    variant: ctx.variant.name,
    run: ctx.index,
    warmup: settled.warmup,
    warmedWorkers: workerCount,
    settle: settled.settleRecord,
    processes: sample.processes,
    skipped: sample.snapshot.skipped,
    expectedWorkers: workerCount,
    replacedWorkers: settled.replaced,
    // Under memcompare's subreaper the launched process is the wrapper: the server's executable is its master's,
    // and no process of the launched tree (a launcher left out of the figures) is another sharer.
    foreignSharers: b.server.wrapped
      ? deps.memory.foreignSharers(
          sample.processes.find((p) => p.role === 'master')?.pid ?? b.server.pid,
          new Set([...pids, ...b.server.knownPids]),
        )
      : deps.memory.foreignSharers(b.server.pid, pids),
    poolNotFixed: ctx.family.poolNotFixed?.(b.argv, ctx.variant.cwd ?? scenario.cwd),
    soak: soaked,
    sharedConnections,
    connectAfterFork: ctx.family.connectAfterFork,
  });
  return {
    processes: sample.processes,
    totals: sample.snapshot.totals,
    skipped: sample.snapshot.skipped,
    mappings,
    warnings,
    ...(sharedConnections.length > 0 ? { sharedConnections } : {}),
    ...(container ? { container } : {}),
    ...(sample.snapshot.observer ? { observer: sample.snapshot.observer } : {}),
  };
}
