import { setTimeout as wait } from 'node:timers/promises';

/** Milliseconds from an arbitrary start, monotonic. (The `performance` global loads perf_hooks: avoided on the snapshot path.) */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The one sleep: abortable. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    // An abort rejects with the signal's own reason, as signal.throwIfAborted() does.
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** Time as the run stages see it: a seam, so that tests can script it. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** The wall-clock time, for the document's timestamps. */
  date(): Date;
}

export const realClock: Clock = { now: nowMs, sleep, date: () => new Date() };
