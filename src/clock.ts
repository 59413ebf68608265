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

/**
 * `p`, or `onTimeout()` once `ms` have passed, whichever comes first; an abort of `signal` rejects. The timer is
 * cleared as soon as `p` settles: a bare race with a sleep leaves it pending, and Node does not exit while it is
 * (a 2 s stop bound held a finished run open for up to 2 s).
 */
export async function within<T, U>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => U,
  clock: Pick<Clock, 'sleep'> = realClock,
  signal?: AbortSignal,
): Promise<T | U> {
  const done = new AbortController();
  const timed = clock.sleep(ms, signal ? AbortSignal.any([signal, done.signal]) : done.signal).then(onTimeout);
  // Rejected once `done` aborts, after the race is decided: nothing waits for it then.
  timed.catch(() => {});
  try {
    return await Promise.race([p, timed]);
  } finally {
    done.abort();
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
