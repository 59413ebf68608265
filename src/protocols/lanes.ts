import { setMaxListeners } from 'node:events';
import { nowMs } from '../clock.js';
import type { WarmupSettings } from '../results/types.js';
import {
  type Answer,
  type BatchResult,
  type LoadGenerator,
  NoAnswerError,
  type OnResponse,
  type SustainOptions,
  type SustainResult,
  type Target,
  type Wire,
} from './protocol.js';

/**
 * One abort for all the lanes, following the run's signal: a listener per request on the run's signal would
 * pile up past Node's warning. `release` unhooks it when the lanes are done.
 */
function lanesAbort(signal?: AbortSignal): { stop: AbortController; release: () => void } {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return { stop, release: () => signal?.removeEventListener('abort', onAbort) };
}

/**
 * The one lane pump of every protocol that sends a request per connection: `inFlight` lanes, each sending
 * its next request as soon as its last is answered, until `amount` have been sent (as `hey -c N`); the
 * soak's lanes send one at a time through it (run/soak.ts).
 * A stopped signal ends every lane at its current request, and the pump throws the signal's reason.
 */
export async function pump(
  amount: number,
  inFlight: number,
  one: (signal: AbortSignal) => Promise<Answer>,
  onResponse: OnResponse,
  signal?: AbortSignal,
): Promise<BatchResult> {
  const out: BatchResult = { requests: 0, sent: 0, errors: 0, timeouts: 0, latenciesMs: [] };
  let left = amount;
  const { stop, release } = lanesAbort(signal);
  const lane = async () => {
    while (left > 0 && !stop.signal.aborted) {
      left--;
      out.sent++;
      const t0 = nowMs();
      try {
        const answer = await one(stop.signal);
        out.requests++;
        out.latenciesMs.push(nowMs() - t0);
        onResponse(answer.status, answer.workerPid);
      } catch (error) {
        if (stop.signal.aborted) continue;
        if (error instanceof NoAnswerError) out.timeouts++;
        else out.errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(amount, inFlight)) }, lane));
  } finally {
    release();
  }
  signal?.throwIfAborted();
  return out;
}

/** Mean, p50, p90, p99 and max of response times (nearest rank), milliseconds. */
export function latencySummary(latenciesMs: readonly number[]): SustainResult['latencyMs'] {
  const s = [...latenciesMs].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number));
  return { mean: s.length ? s.reduce((a, x) => a + x, 0) / s.length : 0, p50: at(50), p90: at(90), p99: at(99), max: s.at(-1) ?? 0 };
}

/**
 * The throughput phase's closed loop over one exchange per request: `connections` lanes, each sending its
 * next request as soon as its last is answered, until `durationMs` has passed (wall time: a real load). A stopped
 * signal ends every lane at its current request; the result says it was cut.
 */
export async function sustainLanes(
  o: SustainOptions,
  one: (signal: AbortSignal) => Promise<Answer>,
  signal?: AbortSignal,
): Promise<SustainResult> {
  const out = { requests: 0, sent: 0, errors: 0, timeouts: 0, statusCodes: {} as Record<string, number> };
  const latencies: number[] = [];
  const { stop, release } = lanesAbort(signal);
  const started = nowMs();
  const deadline = started + o.durationMs;
  // Ends the lanes at the deadline even while every one waits for an answer.
  const timer = setTimeout(() => stop.abort(), o.durationMs + 50);
  const lane = async () => {
    while (!stop.signal.aborted && nowMs() < deadline) {
      out.sent++;
      const t0 = nowMs();
      try {
        const answer = await one(stop.signal);
        out.requests++;
        latencies.push(nowMs() - t0);
        out.statusCodes[String(answer.status)] = (out.statusCodes[String(answer.status)] ?? 0) + 1;
      } catch (error) {
        if (stop.signal.aborted) {
          out.sent--;
          continue;
        }
        if (error instanceof NoAnswerError) out.timeouts++;
        else out.errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.connections) }, lane));
  } finally {
    clearTimeout(timer);
    release();
  }
  return {
    client: 'lanes',
    keepAlive: false,
    ...out,
    durationMs: Math.min(nowMs() - started, o.durationMs),
    latencyMs: latencySummary(latencies),
    cut: signal?.aborted === true,
  };
}

/** A protocol's flow and closed loop: the pump over the wire's exchange, to the url's port (or the settings' socket). */
export function lanes(protocol: string, wire: Wire): Pick<LoadGenerator, 'flow' | 'sustain'> {
  const target = (url: string, settings: WarmupSettings): Target => ({
    port: Number(new URL(url).port),
    ...(settings.socket ? { socket: settings.socket } : {}),
  });
  const over = (url: string, settings: WarmupSettings, amount: number, inFlight: number, onResponse: OnResponse, signal?: AbortSignal) => {
    const to = target(url, settings);
    return pump(amount, inFlight, (s) => wire.exchange(protocol, to, settings, s), onResponse, signal);
  };
  return {
    flow: (url, settings, amount, onResponse, signal) => over(url, settings, amount, settings.connections, onResponse, signal),
    sustain: (url, settings, o, signal) => {
      const to = target(url, settings);
      return sustainLanes(o, (s) => wire.exchange(protocol, to, settings, s), signal);
    },
  };
}
