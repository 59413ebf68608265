import type { Clock } from '../../../src/clock.js';
import type { CpuState } from '../../../src/proc/stat.js';
import type { ProbeResult } from '../../../src/protocols/protocol.js';
import type { ReadyTarget } from '../../../src/run/ready.js';
import type { ProcView } from '../../../src/run/seams.js';

/** A clock that moves only when the code under test sleeps. */
export function fakeClock(): Clock & { sleeps: number } {
  let t = 0;
  const c = {
    sleeps: 0,
    now: () => t,
    date: () => new Date(Date.UTC(2026, 0, 1) + t),
    sleep: async (ms: number) => {
      c.sleeps++;
      t += ms;
    },
  };
  return c;
}

/**
 * A clock for code that sleeps in several tasks at once (the soak's lanes beside its sampler and exit
 * watch): each sleep wakes at its own time, and time moves to the earliest wake once every task is
 * waiting (a turn of the event loop), so concurrent sleeps overlap as on a real host instead of adding up.
 */
export function virtualClock(): Clock & { sleeps: number } {
  // Whole microseconds: a sleep of any positive length moves time on. In floating milliseconds, t + (due - t)
  // can round back below due, and a loop that sleeps until due would sleep a zero step forever.
  let us = 0;
  const timers: { at: number; wake: () => void }[] = [];
  let skips = 0;
  const c = {
    sleeps: 0,
    now: () => us / 1000,
    date: () => new Date(Date.UTC(2026, 0, 1) + us / 1000),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        c.sleeps++;
        if (signal?.aborted) return reject(signal.reason);
        const timer = {
          at: us + Math.max(0, Math.ceil(ms * 1000)),
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        // An aborted sleep leaves the queue and gives up its turn, so time does not jump ahead for it.
        const onAbort = () => {
          const i = timers.indexOf(timer);
          if (i >= 0) {
            timers.splice(i, 1);
            skips++;
          }
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
        // One turn per sleep: the earliest wake is taken, whichever task made it.
        setImmediate(() => {
          if (skips > 0) {
            skips--;
            return;
          }
          timers.sort((x, y) => x.at - y.at);
          const next = timers.shift();
          if (!next) return;
          us = Math.max(us, next.at);
          next.wake();
        });
      }),
  };
  return c;
}

/** One poll's view of a server: its processes, each with CPU time and state. */
export interface PollState {
  listening: 'none' | 'ours' | 'foreign';
  probe?: ProbeResult;
  /** pid → [cpuNs, state] of each process; the master is pid 100, workers its children. */
  processes: Record<number, [number, string]>;
}

/** A ProcView that plays one state per poll (the last repeats): scripted process states; `probe` answers as the poll's state says. */
export function scriptedProc(states: PollState[]): ProcView & { polls: number; probe(): Promise<ProbeResult> } {
  let i = -1;
  const cur = () => states[Math.min(Math.max(i, 0), states.length - 1)] as PollState;
  const view = {
    polls: 0,
    tree: (pid: number) => {
      i++;
      view.polls++;
      return [
        pid,
        ...Object.keys(cur().processes)
          .map(Number)
          .filter((p) => p !== pid),
      ];
    },
    cpu: (pid: number): CpuState | undefined => {
      const p = cur().processes[pid];
      return p ? { cpuNs: p[0], groupTicks: 0, state: p[1], ppid: pid === 100 ? 1 : 100 } : undefined;
    },
    listener: () => {
      const l = cur().listening;
      return l === 'foreign' ? { kind: 'foreign' as const, pid: 999 } : { kind: l };
    },
    probe: async () => cur().probe ?? 'answered',
  };
  return view;
}

export function fakeServer(): ReadyTarget {
  return { pid: 100, argv: ['server'], knownPids: new Set([100]), hasExited: () => false, lastLines: () => [] };
}
