import type { Booted, RunContext } from './context.js';

/** How long a server gets for its own stop when memcompare is interrupted, before SIGKILL. */
const INTERRUPT_STOP_MS = 600;

/** The files of a run that outlive its server: removed once it has stopped. */
const removeRunFiles = (b: Booted) => {
  b.appCopy?.remove();
  b.config?.remove();
};

/**
 * Stage 8, stop: the family's stop signal, a bounded wait, then SIGKILL (run/stop.ts). Returns at once;
 * the promise settles when every process of the tree is gone, so the next server boots meanwhile.
 */
export function stopStage(ctx: RunContext, b: Booted): Promise<void> {
  // Interrupted in the throughput phase, a run still ends normally (its memory was measured), but quickly.
  const bound = ctx.options.signal?.aborted ? INTERRUPT_STOP_MS : undefined;
  return ctx.deps.launcher.stop(b.server, ctx.family, bound).then((r) => {
    removeRunFiles(b);
    ctx.emit({ stage: 'stop', tag: ctx.tag, forced: r.forced });
  });
}

/** A run that failed or was interrupted: a signal must end memcompare within a second or two, so the graceful stop is short. */
export async function abortStage(ctx: RunContext, b: Booted): Promise<void> {
  await ctx.deps.launcher.stop(b.server, ctx.family, ctx.options.signal?.aborted ? INTERRUPT_STOP_MS : undefined);
  removeRunFiles(b);
}
