import { sleep } from '../clock.js';
import { badArgument } from '../errors.js';
import type { Io, Selection, Snapshot } from '../memory.js';
import { takeSnapshot } from '../proc/snapshot.js';
import { renderSmemTable } from '../render/smem-table.js';
import { mib, signedMib } from '../render/units.js';
import { toProcessRecord } from '../results/types.js';
import { BudgetedSampler } from '../run/sampler.js';
import { checkFlag, LIMITS } from '../scenario/limits.js';
import type { FlagValues, WATCH_FLAGS } from './flags.js';
import { parsePids, parseRegex } from './snapshot-options.js';

export type WatchCommandOptions = FlagValues<typeof WATCH_FLAGS>;

/** One NDJSON line: a timestamp, the totals, the change since the first sample, every process. */
function jsonLine(s: Snapshot, tMs: number, first: Snapshot): string {
  return `${JSON.stringify({
    tMs: Math.round(tMs),
    takenAt: s.takenAt,
    totals: s.totals,
    changeSinceStart: { pssBytes: s.totals.pssBytes - first.totals.pssBytes, ussBytes: s.totals.ussBytes - first.totals.ussBytes },
    // The fields of a run's process records (no role: watch does not know the server's family).
    processes: s.processes.map((p) => {
      const { role, ...fields } = toProcessRecord(p, 'other');
      return fields;
    }),
  })}\n`;
}

/**
 * `memcompare watch`: a running server's memory over time, as `snapshot` selects it. On a terminal a
 * smem-style table redrawn in place with totals and the change since the start; with --json or when
 * piped, one JSON line per sample. The sampler keeps within its CPU budget (--max-cpu), stretching
 * the interval if it must, and says what it achieved. Ctrl-C ends it, the last state printed.
 */
export async function runWatchCommand(o: WatchCommandOptions, io: Io): Promise<number> {
  const intervalS = o.interval ?? 1;
  if (!Number.isFinite(intervalS) || intervalS < 0.01 || intervalS > 3600)
    throw badArgument('--interval', o.interval, 'give seconds from 0.01 to 3600, e.g. --interval 0.5');
  if (o.count !== undefined && (!Number.isInteger(o.count) || o.count < 1))
    throw badArgument('--count', o.count, 'give a whole number of samples, 1 or more');
  checkFlag('--max-cpu', o.maxCpu, LIMITS.maxCpuPercent);
  const maxCpu = o.maxCpu ?? LIMITS.maxCpuPercent.default;
  const pids = o.pid === undefined ? undefined : parsePids(o.pid);
  if (o.tree && (pids === undefined || pids.length === 0))
    throw badArgument('--tree', true, 'name the root processes with --pid, e.g. --pid 1234 --tree');
  const selection: Selection = {
    pids,
    tree: o.tree,
    match: o.match === undefined ? undefined : parseRegex(o.match, '--match'),
    user: o.user,
  };
  const tty = !o.json && (io.stdout as NodeJS.WriteStream).isTTY === true;
  let strict = true;
  const sampler = new BudgetedSampler(
    () => {
      const s = takeSnapshot(selection, { strictPids: strict });
      strict = false;
      return s;
    },
    { intervalMs: intervalS * 1000, maxCpu: maxCpu / 100 },
  );
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = Date.now();
  let first: Snapshot | undefined;
  let last: Snapshot | undefined;
  let n = 0;
  const draw = (s: Snapshot) => {
    const st = sampler.stats();
    const table = renderSmemTable(s.processes, { totals: true, abbreviate: o.abbreviate });
    const change = first ? signedMib(s.totals.pssBytes - first.totals.pssBytes) : '';
    return `${table}sample ${n}${o.count ? ` of ${o.count}` : ''}, every ${(st.achievedIntervalMs || intervalS * 1000).toFixed(0)} ms; total PSS ${mib(s.totals.pssBytes)} (${change} since the start); sampler ${st.cpuMsPerSample.toFixed(1)} ms CPU a sample, ${st.cpuPercent.toFixed(1)}% of a core (budget ${maxCpu}%)\n`;
  };
  try {
    while (!controller.signal.aborted) {
      const s = sampler.sample();
      n++;
      first ??= s;
      last = s;
      if (tty) io.stdout.write(`\u001b[H\u001b[2J${draw(s)}`);
      else io.stdout.write(jsonLine(s, Date.now() - started, first));
      if (pids && s.processes.length === 0) {
        io.stderr.write('memcompare: the watched processes are gone\n');
        break;
      }
      if (o.count !== undefined && n >= o.count) break;
      await sleep(sampler.nextDelayMs(), controller.signal).catch(() => {});
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  // Ctrl-C on a terminal: the last state stays on screen, with a final line.
  if (tty && last && controller.signal.aborted) io.stdout.write(`\n${draw(last)}`);
  return 0;
}
