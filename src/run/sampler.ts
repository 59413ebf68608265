import { type Clock, realClock } from '../clock.js';

/**
 * A sampler that keeps its own cost within a CPU budget. Reading smaps_rollup walks each process's
 * page tables in the kernel (charged to the reader as system time) and takes the mmap lock the
 * server's page faults need, so sampling many large processes often would take a core from the
 * server being measured. Each sample's CPU time (user + system, from process.cpuUsage around the
 * synchronous read) is measured, and the interval is stretched so that cost / interval stays within
 * the budget. What was achieved is reported.
 */
export interface BudgetOptions {
  /** Wanted interval between samples, milliseconds. */
  intervalMs: number;
  /** Largest share of one core the sampler may use, e.g. 0.1 for 10%. */
  maxCpu: number;
}

export interface SamplerStats {
  samples: number;
  /** Mean time between samples, milliseconds (what the budget allowed). */
  achievedIntervalMs: number;
  /** CPU time of all samples, milliseconds, and per sample. */
  cpuMs: number;
  cpuMsPerSample: number;
  /** Sampler CPU time / wall time between the first sample and the last, percent of one core. */
  cpuPercent: number;
}

export class BudgetedSampler<T> {
  private readonly times: number[] = [];
  private cpuMs = 0;
  private lastCost = 0;

  constructor(
    private readonly take: () => T,
    private readonly o: BudgetOptions,
    private readonly clock: Clock = realClock,
  ) {}

  /** One sample, timed in CPU. */
  sample(): T {
    const before = process.cpuUsage();
    const value = this.take();
    const used = process.cpuUsage(before);
    this.lastCost = (used.user + used.system) / 1000;
    this.cpuMs += this.lastCost;
    this.times.push(this.clock.now());
    return value;
  }

  /**
   * A read outside the regular samples (the exit watch), its CPU time counted in the budget's figures;
   * returns the value and its cost in milliseconds, to space such reads within the budget.
   */
  extra<V>(read: () => V): { value: V; costMs: number } {
    const before = process.cpuUsage();
    const value = read();
    const used = process.cpuUsage(before);
    const costMs = (used.user + used.system) / 1000;
    this.cpuMs += costMs;
    return { value, costMs };
  }

  /** How long to wait before the next sample: the wanted interval, or longer to stay within the budget. */
  nextDelayMs(): number {
    const period = Math.max(this.o.intervalMs, this.lastCost / this.o.maxCpu);
    return Math.max(0, period - this.lastCost);
  }

  stats(): SamplerStats {
    const n = this.times.length;
    const span = n > 1 ? (this.times[n - 1] as number) - (this.times[0] as number) : 0;
    return {
      samples: n,
      achievedIntervalMs: n > 1 ? span / (n - 1) : 0,
      cpuMs: this.cpuMs,
      cpuMsPerSample: n > 0 ? this.cpuMs / n : 0,
      cpuPercent: span > 0 ? (this.cpuMs * 100) / (span + this.lastCost) : 0,
    };
  }
}
