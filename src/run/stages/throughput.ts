import { nowMs } from '../../clock.js';
import type { ThroughputRecord } from '../../results/types.js';
import { throughputConnections } from '../../scenario/limits.js';
import type { Booted, RunContext } from './context.js';

/**
 * Stage 7 (every run unless turned off): the throughput phase. After the memory is sampled, so that its load
 * does not move what was measured: a closed loop of connections for a fixed time, through the protocol's
 * load (autocannon on kept-alive connections where the server allows, else a connection per request).
 * memcompare's own CPU over the phase is recorded: the load generator shares the host with the server.
 * An interrupt ends it at once; the record says it was cut, and the engine then stops the run.
 */
export async function throughputStage(ctx: RunContext, b: Booted): Promise<ThroughputRecord | undefined> {
  const settings = ctx.scenario.throughput;
  if (!settings || !b.load.sustain) return undefined;
  const connections = throughputConnections(settings, ctx.scenario.workers);
  ctx.emit({ stage: 'throughput-start', tag: ctx.tag, seconds: settings.durationSeconds, connections });
  const cpu = process.cpuUsage();
  // memcompare's own CPU over the phase's wall time (both the real process's, in a scripted world too).
  const wall = nowMs();
  const r = await b.load.sustain(
    `http://127.0.0.1:${b.port}`,
    b.warmup,
    { connections, durationMs: settings.durationSeconds * 1000 },
    ctx.options.signal,
  );
  const used = process.cpuUsage(cpu);
  const elapsed = Math.max(1, nowMs() - wall);
  const record: ThroughputRecord = {
    client: r.client,
    keepAlive: r.keepAlive,
    connections,
    durationMs: r.durationMs,
    requests: r.requests,
    sent: r.sent,
    requestsPerSecond: r.durationMs > 0 ? (r.requests * 1000) / r.durationMs : 0,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: r.statusCodes,
    latencyMs: r.latencyMs,
    loadCpuPercent: ((used.user + used.system) / 1000 / elapsed) * 100,
    ...(r.cut ? { cut: true } : {}),
  };
  ctx.emit({ stage: 'throughput', tag: ctx.tag, record });
  return record;
}
