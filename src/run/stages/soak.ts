import { getMaxListeners, setMaxListeners } from 'node:events';
import { adviseRecycling, freshWorkerUss, rssBytesPerRequest, servedBeforeSoak } from '../../results/lifetime.js';
import { cowEfficiency, reforkGenerations } from '../../results/refork.js';
import type { SoakRecord, SoakSettings, WarmupResult } from '../../results/types.js';
import { serverDied } from '../ready.js';
import { type SoakContext, soak } from '../soak.js';
import type { TreeSample } from '../tree-sample.js';
import type { Booted, RunContext } from './context.js';

/** The soak's exit watch: the family's recycling line, heard as it is printed, and the reads it makes. */
function exitWatch(ctx: RunContext, b: Booted): Pick<SoakContext, 'onRecycleLine' | 'ussOf' | 'sharedAnonOf'> {
  const line = ctx.family.log.recycled;
  const { ussOf, sharedAnonOf } = ctx.deps.memory;
  const listen = b.server.onOutput?.bind(b.server);
  return {
    ...(line && ussOf && listen
      ? {
          onRecycleLine: (cb: (pid?: number) => void) =>
            listen((text) => {
              for (const m of text.matchAll(new RegExp(line.source, 'g'))) cb(m.groups?.pid ? Number(m.groups.pid) : undefined);
            }),
        }
      : {}),
    // The exit watch and the routes' peaks read a worker's USS alone.
    ...(ussOf ? { ussOf } : {}),
    ...(sharedAnonOf ? { sharedAnonOf } : {}),
  };
}

/**
 * Stage 4 (optional), soak: load kept on while a budgeted sampler records the tree; with a per-worker
 * limit, the recycling advice from the growth it measured.
 */
export async function soakStage(
  ctx: RunContext,
  b: Booted,
  sample: () => TreeSample,
  expectedWorkers: number,
  warmup: WarmupResult,
): Promise<SoakRecord> {
  const settings = ctx.scenario.soak as SoakSettings;
  // Each lane's flow, the sampler, the exit watch and the peaks' reads each listen to the run's signal at once:
  // Node warns past 10 listeners (MaxListenersExceededWarning on stderr with 10 connections).
  const signal = ctx.options.signal;
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), settings.connections + 8), signal);
  const reforks = () =>
    ctx.family.log.reforked ? (b.server.output().match(new RegExp(ctx.family.log.reforked.source, 'g')) ?? []).length : 0;
  const reforkedBefore = reforks();
  const soaked = await soak({
    port: b.port,
    path: b.warmup.path,
    settings,
    load: b.load,
    warmup: b.warmup,
    clock: ctx.deps.clock,
    sample,
    alive: () => {
      if (b.server.hasExited()) throw serverDied(b.server, 'during the soak');
    },
    onTick: (st) => ctx.emit({ stage: 'soak-tick', tag: ctx.tag, tick: { ...st, durationMs: settings.durationSeconds * 1000 } }),
    ...(b.warmup.workerPidHeader ? { workerPidHeader: b.warmup.workerPidHeader } : {}),
    expectedWorkers,
    recycledSoFar: () => (ctx.family.log.recycled ? (b.server.output().match(ctx.family.log.recycled) ?? []).length : 0),
    ...exitWatch(ctx, b),
    ...(b.warmup.routes && b.warmup.routes.length > 1 ? { routes: b.warmup.routes } : {}),
    ...(ctx.deps.memory.anonOf ? { anonOf: ctx.deps.memory.anonOf } : {}),
    ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
  });
  // The replacements the server's log called a refork (one line a new worker), in the order they left.
  let reforked = reforks() - reforkedBefore;
  for (const r of soaked.replacements ?? []) {
    if (reforked <= 0) break;
    if (r.cause !== 'died') continue;
    r.cause = 'refork';
    reforked--;
  }
  const before = servedBeforeSoak(warmup, expectedWorkers);
  const refork = reforkGenerations(soaked.timeline, soaked.replacements ?? [], before);
  if (refork) soaked.refork = ctx.family.refork ? { ...refork, schedule: ctx.family.refork.schedule } : refork;
  const cow = cowEfficiency(soaked.timeline, soaked.replacements ?? [], before);
  if (cow) soaked.cowEfficiency = cow;
  const limit = ctx.options.maxWorkerUssBytes;
  if (limit !== undefined && soaked.growth) {
    const births = (soaked.replacements ?? []).map((r) => r.newUssAtBirthBytes).filter((x): x is number => x !== null);
    const freshUss = freshWorkerUss(soaked.timeline, soaked.growth.bytesPerRequest, births, before);
    const rssSlope = rssBytesPerRequest(soaked.timeline);
    const rss = {
      freshBytes: freshWorkerUss(soaked.timeline, rssSlope, [], before, 'rssBytes'),
      bytesPerRequest: rssSlope,
      workers: expectedWorkers,
    };
    soaked.advice = adviseRecycling(
      ctx.family,
      soaked.growth,
      freshUss,
      limit,
      settings.durationSeconds,
      soaked.exitCopy,
      rss,
      soaked.routes?.byRoute,
    );
  }
  ctx.emit({ stage: 'soak', tag: ctx.tag, record: soaked });
  return soaked;
}
