import type { RunEvent, SoakTick } from '../results/events.js';
import type { WarmupResult } from '../results/types.js';
import { progressBar, statusTally } from './units.js';
import { terminalWidth } from './width.js';

const mib = (b: number) => (b / 1048576).toFixed(1);
const kib = (b: number) => (b / 1024).toFixed(1);

/** The warm-up's account on one line. */
const warmed = (w: WarmupResult) => `${w.requests} responses ${statusTally(w.statusCodes)}`;

/** One run event in words, for the progress line (undefined: nothing to say, as for a soak's tick). */
export function progressText(e: RunEvent): string | undefined {
  switch (e.stage) {
    case 'services':
      return 'starting' in e
        ? `starting services: ${e.starting.join(', ')}`
        : `services ready: ${e.ready.map((s) => `${s.name} on port ${s.port} (pid ${s.pid})`).join(', ')}`;
    case 'launch':
      return `${e.tag} booting pid ${e.pid} on port ${e.port}: ${e.argv.join(' ')}`;
    case 'port-wait':
      return `${e.tag} port ${e.port} is the server's own; waiting for the previous server to let it go`;
    case 'ready':
      return `${e.tag} ready in ${(e.bootMs / 1000).toFixed(1)} s with ${e.workers} workers${e.detected ? ' (detected)' : ''}; warming up`;
    case 'warm':
      return e.soakSeconds === undefined
        ? `${e.tag} warm-up: ${warmed(e.warmup)}; settling`
        : `${e.tag} warm-up: ${warmed(e.warmup)}; soaking for ${e.soakSeconds} s`;
    case 'steady': {
      const r = e.record;
      return `${e.tag} warm-up to a steady state: ${r.rounds} more rounds in ${(r.durationMs / 1000).toFixed(1)} s, ${r.requestsPerWorker.toFixed(0)} requests per worker; ${
        r.reached
          ? `steady (${kib(r.lastBytesPerRequest)} KiB per request)`
          : r.linear
            ? `the workers grow ${kib(r.lastBytesPerRequest)} KiB per request (not waited for)`
            : `not steady at the bound (${kib(r.lastBytesPerRequest)} KiB per request)`
      }`;
    }
    case 'soak': {
      const s = e.record;
      return `${e.tag} soak: ${s.requests} responses in ${(s.durationMs / 1000).toFixed(1)} s, peak total PSS ${mib(s.peakTotalPssBytes)} MiB, ${s.samples} samples every ${s.achievedIntervalMs.toFixed(0)} ms (sampler ${s.samplerCpuPercent.toFixed(1)}% of a core); settling`;
    }
    case 'soak-tick':
      return undefined;
    case 'settle':
      return `${e.tag} ${e.settled ? 'settled' : 'did not settle'} after ${e.samples} samples`;
    case 'rewarm':
      return `${e.tag} workers ${e.workers.join(', ')} are new since the warm-up; warming them`;
    case 'reload-signal':
      return `${e.tag} reload: ${e.file} edited; ${e.signal} to pid ${e.pid}`;
    case 'reload': {
      const r = e.record;
      return `${e.tag} reload: ${r.workersReplaced} new workers in ${(r.reloadMs / 1000).toFixed(1)} s answer ${JSON.stringify(r.after.slice(0, 40))} (before: ${JSON.stringify(r.before.slice(0, 40))}): ${r.stale ? 'STALE' : 'fresh'}`;
    }
    case 'refork-signal':
      return `${e.tag} refork: ${e.signal} to pid ${e.pid}; waiting for ${e.workers} workers forked anew`;
    case 'refork': {
      const r = e.record;
      return `${e.tag} refork: ${r.workers} new workers in ${(r.tMs / 1000).toFixed(1)} s; total PSS ${mib(r.beforeBytes)} MiB before, ${mib(r.afterBytes)} MiB right after, ${mib(r.endBytes)} MiB warmed again (${r.warmedRequests ?? 0} requests)`;
    }
    case 'sample':
      return `${e.tag} measured total PSS ${mib(e.totalPssBytes)} MiB`;
    case 'throughput-start':
      return `${e.tag} throughput: ${e.seconds} s over ${e.connections} connections`;
    case 'throughput': {
      const t = e.record;
      return `${e.tag} throughput: ${t.requestsPerSecond.toFixed(0)} requests/s, p50 ${t.latencyMs.p50.toFixed(1)} ms, p99 ${t.latencyMs.p99.toFixed(1)} ms (${t.client})${t.cut ? ', cut' : ''}; stopping`;
    }
    case 'stop':
      return `${e.tag} stopped${e.forced ? ' (forced with SIGKILL)' : ''}`;
  }
}

/** One line of a soak's progress bar, redrawn in place. */
export function soakBar(tag: string, st: SoakTick): string {
  const left = Math.max(0, (st.durationMs - st.elapsedMs) / 1000);
  const line = `${tag} soak ${progressBar(st.elapsedMs / st.durationMs)} ${(st.elapsedMs / 1000).toFixed(0)} s, ${left.toFixed(0)} s left, ${st.requests} requests, total PSS ${mib(st.totalPssBytes)} MiB (peak ${mib(st.peakPssBytes)})`;
  return `\r${line}\u001b[K${st.elapsedMs >= st.durationMs ? '\n' : ''}`;
}

/**
 * Progress as one line redrawn in place on a terminal (cut to its width), one line per stage when
 * piped. `clear` rubs the line out before anything else is written below it.
 */
export function progressLine(stream: NodeJS.WritableStream): { show(line: string): void; clear(): void } {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  let shown = false;
  return {
    show(line) {
      if (!tty) {
        stream.write(`${line}\n`);
        return;
      }
      const width = terminalWidth(stream) ?? 100;
      stream.write(`\r${line.length >= width ? `${line.slice(0, width - 2)}…` : line}\u001b[K`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}
