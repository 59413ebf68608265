import { type Clock, realClock } from '../clock.js';
import type { SettleRecord, SettleSettings } from '../results/types.js';
import type { LaunchedServer } from './launch.js';
import { serverDied } from './ready.js';
import type { TreeSample } from './tree-sample.js';

/** What settling needs: the server (to notice its death) and a way to sample its tree (a seam for tests). */
export interface SettleTarget {
  server: Pick<LaunchedServer, 'argv' | 'lastLines' | 'hasExited'>;
  sample(): TreeSample;
}

/**
 * Samples the tree until it is still: the same processes as the sample before, the expected number
 * of workers, and total PSS within the tolerance of the previous sample, for `stableSamples` samples
 * in a row. Returns the last sample; `settled` is false if the bound ran out first.
 */
export async function settle(
  target: SettleTarget,
  expectedWorkers: number,
  s: SettleSettings,
  signal?: AbortSignal,
  clock: Clock = realClock,
): Promise<{ sample: TreeSample; record: SettleRecord }> {
  const started = clock.now();
  const history: number[] = [];
  let previous: TreeSample | undefined;
  let still = 0;
  let lastChange = Number.POSITIVE_INFINITY;
  while (true) {
    signal?.throwIfAborted();
    if (target.server.hasExited()) throw serverDied(target.server, 'while memcompare was measuring it');
    const sample = target.sample();
    const total = sample.snapshot.totals.pssBytes;
    history.push(total);
    if (previous) {
      const samePids = sameSet(
        previous.processes.map((p) => p.pid),
        sample.processes.map((p) => p.pid),
      );
      const prevTotal = previous.snapshot.totals.pssBytes;
      lastChange = prevTotal > 0 ? (Math.abs(total - prevTotal) * 100) / prevTotal : Number.POSITIVE_INFINITY;
      const isStill = samePids && sample.workers === expectedWorkers && lastChange <= s.tolerancePercent;
      still = isStill ? still + 1 : 0;
    }
    previous = sample;
    const elapsed = clock.now() - started;
    if (still >= s.stableSamples || elapsed >= s.timeoutMs) {
      return {
        sample,
        record: {
          settled: still >= s.stableSamples,
          samples: history.length,
          durationMs: elapsed,
          totalPssHistoryBytes: history,
          lastChangePercent: Number.isFinite(lastChange) ? lastChange : 100,
        },
      };
    }
    await clock.sleep(s.intervalMs, signal);
  }
}

function sameSet(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}
