import type { ReforkRecord, RunRecord, WarmupResult } from '../../results/types.js';
import type { ServerFamily } from '../../servers/family.js';
import { waitReady } from '../ready.js';
import { settle } from '../settle.js';
import type { TreeSample } from '../tree-sample.js';
import { warmUp } from '../warm.js';
import type { Booted, RunContext } from './context.js';

/** Rounds the new generation's warm-up gets at most to reach the first one's depth. */
const MAX_ROUNDS = 20;

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
  // The depth the first generation was measured at, per worker: a steady warm-up's, else its least-warmed worker's.
  const firstServed = servedBy(first.warmup, [...workerPids]);
  const depth = first.warmup.steady?.requestsPerWorker ?? Math.min(...old.map((pid) => firstServed.get(pid) ?? 0));
  const fresh = ready.workerPids.filter((pid) => !workerPids.has(pid));
  const served = new Map(fresh.map((pid) => [pid, 0]));
  const short = () => Math.max(0, depth - Math.min(...served.values()));
  // Rounds of the warm-up's own size at least, each as large as what the least-served new worker still lacks
  // times the workers (the load is spread over all of them, worker 0 included); bounded.
  let total = 0;
  for (let round = 0; round < MAX_ROUNDS && (round === 0 || short() > 0); round++) {
    const requests = Math.max(b.warmup.requests, Math.ceil(short() * ready.workerPids.length));
    const w = await warmUp(b.port, { ...b.warmup, requests }, ready.workerPids, ctx.options.signal, { load: b.load, proc: deps.proc });
    total += w.requests;
    for (const [pid, n] of servedBy(w, ready.workerPids)) if (served.has(pid)) served.set(pid, (served.get(pid) ?? 0) + n);
  }
  const again = await settle({ server: b.server, sample: sampleNow }, workers.length, ctx.scenario.settle, ctx.options.signal, deps.clock);
  // The workers themselves, the mold left out: it serves its share of the re-run too, so the total holds its growth.
  const meanUss = (sample: TreeSample, pids: ReadonlySet<number>) => {
    const ps = sample.processes.filter((p) => pids.has(p.pid));
    return ps.length ? ps.reduce((a, p) => a + p.ussBytes, 0) / ps.length : 0;
  };
  const record: ReforkRecord = {
    tMs: Math.round(reforkMs),
    workers: fresh.length,
    beforeBytes: first.sample.snapshot.totals.pssBytes,
    afterBytes: rightAfter.snapshot.totals.pssBytes,
    endBytes: again.sample.snapshot.totals.pssBytes,
    warmedRequests: total,
    depthRequests: Math.round(depth),
    oldWorkerUssBytes: meanUss(first.sample, new Set(old)),
    newWorkerUssBytes: meanUss(again.sample, new Set(fresh)),
    reachedDepth: short() === 0,
    schedule: refork.schedule,
  };
  ctx.emit({ stage: 'refork', tag: ctx.tag, record });
  return { settled: { sample: again.sample, settleRecord: again.record, warmup: first.warmup }, record };
}
