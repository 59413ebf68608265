import { badArgument } from '../errors.js';
import type { ThroughputSettings } from '../results/types.js';

/**
 * Every limit and default of a setting that both a flag and a scenario field can give, in one table:
 * the flag checks (commands/) and the scenario schema (scenario/schema.ts, written to
 * schema/scenario.schema.json) read it, so they cannot drift apart.
 */
export interface Limit {
  min: number;
  max: number;
  /** The minimum is excluded (a duration or a budget of 0 makes no sense). */
  exclusiveMin?: boolean;
  integer: boolean;
  default?: number;
  /** What the value counts, for messages ("seconds", "workers"). */
  unit: string;
}

export const LIMITS = {
  workers: { min: 1, max: 256, integer: true, default: 5, unit: 'workers' },
  runs: { min: 1, max: 1000, integer: true, default: 3, unit: 'runs per variant' },
  port: { min: 1, max: 65535, integer: true, unit: 'a TCP port' },
  bootTimeoutSeconds: { min: 1, max: 3600, integer: true, default: 120, unit: 'seconds' },
  warmupRequests: { min: 1, max: 10_000_000, integer: true, default: 30, unit: 'requests' },
  warmupConnections: { min: 1, max: 10_000, integer: true, default: 30, unit: 'connections' },
  settleIntervalMs: { min: 10, max: 60_000, integer: true, default: 50, unit: 'milliseconds' },
  settleTolerancePercent: { min: 0, max: 100, integer: false, default: 0.1, unit: 'percent' },
  settleStableSamples: { min: 1, max: 1000, integer: true, default: 3, unit: 'samples' },
  settleTimeoutMs: { min: 100, max: 3_600_000, integer: true, default: 20_000, unit: 'milliseconds' },
  soakSeconds: { min: 0, max: 86_400, exclusiveMin: true, integer: false, unit: 'seconds' },
  soakConnections: { min: 1, max: 1000, integer: true, default: 10, unit: 'connections' },
  soakRate: { min: 0, max: 1_000_000, exclusiveMin: true, integer: false, unit: 'requests per second' },
  samplerIntervalMs: { min: 10, max: 600_000, integer: true, default: 250, unit: 'milliseconds' },
  maxCpuPercent: { min: 0, max: 100, exclusiveMin: true, integer: false, default: 10, unit: 'percent of one core' },
  throughputSeconds: { min: 0, max: 3600, exclusiveMin: true, integer: false, default: 3, unit: 'seconds' },
  throughputConnections: { min: 1, max: 1000, integer: true, unit: 'connections' },
  reloadTimeoutSeconds: { min: 1, max: 3600, integer: true, default: 60, unit: 'seconds' },
} as const satisfies Record<string, Limit>;

/** "a whole number from 1 to 256", "a number more than 0 and at most 100": the fix a message gives. */
export function limitText(l: Limit): string {
  const what = l.integer ? 'a whole number' : 'a number';
  return l.exclusiveMin ? `${what} more than ${l.min} and at most ${l.max} (${l.unit})` : `${what} from ${l.min} to ${l.max} (${l.unit})`;
}

/** True when the value is within the limit. */
export function withinLimit(value: unknown, l: Limit): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (l.integer && !Number.isInteger(value)) return false;
  return (l.exclusiveMin ? value > l.min : value >= l.min) && value <= l.max;
}

/** The JSON Schema of a limited number, with its default. */
export function limitSchema(l: Limit, description: string): Record<string, unknown> {
  return {
    type: l.integer ? 'integer' : 'number',
    description,
    ...(l.exclusiveMin ? { exclusiveMinimum: l.min } : { minimum: l.min }),
    maximum: l.max,
    ...(l.default !== undefined ? { default: l.default } : {}),
  };
}

/** Checks a flag's value against its limit: a one-line error naming the flag, the value and the range. */
export function checkFlag(flag: string, value: number | undefined, l: Limit): void {
  if (value !== undefined && !withinLimit(value, l)) throw badArgument(flag, value, `pass ${limitText(l)}`);
}

/** The throughput phase every run has unless a scenario says `throughput: false` (or --no-throughput). */
export const DEFAULT_THROUGHPUT: ThroughputSettings = { durationSeconds: LIMITS.throughputSeconds.default };

/** The connections the phase keeps busy: twice the workers (every worker and a thread or two busy, one waiting), at least 8. */
export function throughputConnections(t: ThroughputSettings, workers: number): number {
  return t.connections ?? Math.min(LIMITS.throughputConnections.max, Math.max(8, 2 * workers));
}
