import type { ReforkRecord, RunRecord, WarmupResult } from '../../results/types.js';
import type { ServerFamily } from '../../servers/family.js';
import { waitReady } from '../ready.js';
import { settle } from '../settle.js';
import type { TreeSample } from '../tree-sample.js';
import type { Booted, RunContext } from './context.js';
import { warmWorkers } from './warm.js';

/** Rounds of the warm-up the new generation gets at most to reach the first one's depth. */
const MAX_ROUNDS = 100;

interface Settled {
  sample: TreeSample;
  settleRecord: RunRecord['settle'];
  warmup: WarmupResult;
}

/** Requests each worker served in a warm-up: from the worker-pid header, else the round shared evenly. */
function servedBy(w: WarmupResult, pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, w.requestsPerWorker ? (w.requestsPerWorker[String(pid)] ?? 0) : w.requests / pids.length]));
}

/**
 * Stage 5b (a variant with `refork`), refork: after the first generation has settled, the family's refork signal
 * to the master; a wait until the workers forked from the mold have replaced every other worker; the total right
 * after (the new workers share everything with the mold until they serve: it overstates the saving); the warm-up
 * re-run for the new generation until each has served as many requests as the first one's workers had (the same
 * depth); settled again. The new generation is what the run measures.
 */
export async function reforkStage(ctx: RunContext, b: Booted, first: Settled): Promise<{ settled: Settled; record: ReforkRecord }> {
  const { deps, family } = ctx;
  const refork = family.refork as NonNullable<ServerFamily['refork']>;
  const workers = first.sample.processes.filter((p) => p.role === 'worker');
  const workerPids = new Set(workers.map((p) => p.pid));
  const molds = new Set(workers.map((p) => p.ppid).filter((pid) => workerPids.has(pid)));
  const old = workers.filter((p) => !molds.has(p.pid)).map((p) => p.pid);
  const t0 = deps.clock.now();
  ctx.emit({ stage: 'refork-signal', tag: ctx.tag, signal: refork.signal, pid: b.server.pid, workers: old.length });
  deps.launcher.signal(b.server, refork.signal);
  const ready = await waitReady(
    b.server,
    family,
    { port: b.port, path: b.warmup.path, workers: workers.length, timeoutMs: ctx.scenario.bootTimeoutMs, excludeWorkers: new Set(old) },
    ctx.options.signal,
    { proc: deps.proc, clock: deps.clock, probe: () => deps.wire.probe(b.protocol.name, { port: b.port }, b.warmup) },
  );
  const reforkMs = deps.clock.now() - t0;
  const sampleNow = () => deps.memory.sample(b.server, family);
  const rightAfter = sampleNow();
  // The depth the first generation was measured at, per worker.
  const firstServed = servedBy(first.warmup, [...workerPids]);
  const depth = Math.min(...old.map((pid) => firstServed.get(pid) ?? 0));
  const fresh = ready.workerPids.filter((pid) => !workerPids.has(pid));
  const served = new Map(fresh.map((pid) => [pid, 0]));
  let warmup = await warmWorkers(ctx, b, ready.workerPids);
  let total = warmup.requests;
  for (let round = 1; round < MAX_ROUNDS; round++) {
    for (const [pid, n] of servedBy(warmup, ready.workerPids)) if (served.has(pid)) served.set(pid, (served.get(pid) ?? 0) + n);
    if (Math.min(...served.values()) >= depth) break;
    warmup = await warmWorkers(ctx, b, ready.workerPids);
    total += warmup.requests;
  }
  const again = await settle({ server: b.server, sample: sampleNow }, workers.length, ctx.scenario.settle, ctx.options.signal, deps.clock);
  const record: ReforkRecord = {
    tMs: Math.round(reforkMs),
    workers: fresh.length,
    beforeBytes: first.sample.snapshot.totals.pssBytes,
    afterBytes: rightAfter.snapshot.totals.pssBytes,
    endBytes: again.sample.snapshot.totals.pssBytes,
    warmedRequests: total,
    schedule: refork.schedule,
  };
  ctx.emit({ stage: 'refork', tag: ctx.tag, record });
  return { settled: { sample: again.sample, settleRecord: again.record, warmup: first.warmup }, record };
}
