import { setMaxListeners } from 'node:events';
import { nowMs } from '../clock.js';
import type { WarmupSettings } from '../results/types.js';
import { type Answer, type BatchResult, type LoadGenerator, NoAnswerError, type OnResponse, type Target, type Wire } from './protocol.js';

/**
 * The one lane pump of every protocol that sends a request per connection: `inFlight` lanes, each sending
 * its next request as soon as its last is answered, until `amount` have been sent. A flow is `inFlight` =
 * the settings' connections (as `hey -c N`); a batch is `inFlight` = `amount` (all opened at once).
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
  // One abort for the whole pump: a listener per request on the run's signal would pile up past Node's warning.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
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
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  return out;
}

/** A protocol's flow and batch: the pump over the wire's exchange, to the url's port (or the settings' socket). */
export function lanes(protocol: string, wire: Wire): Pick<LoadGenerator, 'flow' | 'batch'> {
  const over = (url: string, settings: WarmupSettings, amount: number, inFlight: number, onResponse: OnResponse, signal?: AbortSignal) => {
    const target: Target = { port: Number(new URL(url).port), ...(settings.socket ? { socket: settings.socket } : {}) };
    return pump(amount, inFlight, (s) => wire.exchange(protocol, target, settings, s), onResponse, signal);
  };
  return {
    flow: (url, settings, amount, onResponse, signal) => over(url, settings, amount, settings.connections, onResponse, signal),
    batch: (url, settings, amount, onResponse, signal) => over(url, settings, amount, amount, onResponse, signal),
  };
}
