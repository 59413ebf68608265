import type { SteadyRecord } from '../results/types.js';
/**
 * Python's "%.1f" on a double: correctly rounded, exact ties to even. JavaScript's toFixed rounds
 * exact ties up, so 1.25 would print "1.3" where smem prints "1.2".
 */
export function pyFixed1(x: number): string {
  const quarter = x * 4;
  // With one decimal, only values ending in .25 or .75 are exact binary ties.
  if (Number.isInteger(quarter) && Math.abs(quarter % 2) === 1) {
    const lower = Math.floor(x * 10);
    const even = lower % 2 === 0 ? lower : lower + 1;
    return (even / 10).toFixed(1);
  }
  return x.toFixed(1);
}

/** smem -k: bytes as "0", "512.0", "1.2K", "44.6M", "1.0G" (1024-based, one decimal). */
export function smemUnits(bytes: number): string {
  if (bytes === 0) return '0';
  let x = bytes;
  let unit = '';
  for (const u of ['', 'K', 'M', 'G', 'T']) {
    unit = u;
    if (x < 1024) break;
    x /= 1024;
  }
  return `${pyFixed1(x)}${unit}`;
}

/** A human amount for comparison tables: MiB with one decimal, or KiB below 1 MiB. */
export function mib(bytes: number, digits = 1): string {
  return `${(bytes / 1048576).toFixed(digits)} MiB`;
}

/** KiB below 1 MiB, else MiB with two decimals: the gate's figures are often a fraction of a MiB. */
export function size(bytes: number): string {
  if (!Number.isFinite(bytes)) return bytes > 0 ? '∞' : '−∞';
  const a = Math.abs(bytes);
  const sign = bytes < 0 ? '−' : '';
  return a < 1048576 ? `${sign}${(a / 1024).toFixed(0)} KiB` : `${sign}${(a / 1048576).toFixed(2)} MiB`;
}

/** `size` with a sign: "+512 KiB", "−1.25 MiB". */
export const signedSize = (bytes: number): string => (bytes >= 0 ? `+${size(bytes)}` : size(bytes));

/** Signed MiB, e.g. "-166.2 MiB". */
export function signedMib(bytes: number): string {
  const s = mib(Math.abs(bytes));
  return bytes < 0 ? `-${s}` : `+${s}`;
}

/** A progress bar of `width` cells, e.g. "[######..........]" (the soak's and the sweep's). */
export function progressBar(fraction: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** How a warm-up to a steady state went, in one sentence (terminal and reports). */
export function steadyText(s: SteadyRecord): string {
  const kib = (x: number) => `${(x / 1024).toFixed(1)} KiB`;
  const end = s.reached
    ? `steady: the workers grew ${kib(Math.max(0, s.lastBytesPerRequest))} per request in the last round (steady below ${kib(s.thresholdBytesPerRequest)})`
    : s.targetRequestsPerWorker !== undefined && !s.linear && !s.bound
      ? `still growing ${kib(s.lastBytesPerRequest)} a request at the depth every variant is measured at (steady below ${kib(s.thresholdBytesPerRequest)})`
      : s.linear
        ? `the workers grow ${kib(s.lastBytesPerRequest)} per request round after round (growth per request, not warming: not waited for)`
        : `NOT steady at the bound (${s.bound ?? 'rounds'}): still ${kib(s.lastBytesPerRequest)} per request (steady below ${kib(s.thresholdBytesPerRequest)})`;
  if (s.targetRequestsPerWorker !== undefined) {
    const again = s.replacedDepth !== undefined ? `, run again: its first run had stopped at ${s.replacedDepth.toFixed(0)}` : '';
    return `to the common depth in ${s.rounds} more round${s.rounds === 1 ? '' : 's'} (${s.requests} requests, ${(s.durationMs / 1000).toFixed(1)} s), ${s.requestsPerWorker.toFixed(0)} requests per worker in all${again}; ${end}`;
  }
  const on =
    s.steadyAtRequestsPerWorker === undefined
      ? ''
      : ` (steady from ${s.steadyAtRequestsPerWorker.toFixed(0)}, then warmed on ${s.warmedOn === 'to-an-earlier-variant' ? "to an earlier variant's depth" : 'while a round cost less than a quarter of a boot'})`;
  return `to a steady state in ${s.rounds} more round${s.rounds === 1 ? '' : 's'} (${s.requests} requests, ${(s.durationMs / 1000).toFixed(1)} s), ${s.requestsPerWorker.toFixed(0)} requests per worker in all${on}; ${end}`;
}

/** Answers per status code, as every medium shows them: "[200] 28 [503] 2". */
export function statusTally(codes: Record<string, number>): string {
  return Object.entries(codes)
    .map(([c, n]) => `[${c}] ${n}`)
    .join(' ');
}
