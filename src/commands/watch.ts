import { sleep } from '../clock.js';
import { badArgument } from '../errors.js';
import { createTreeMetrics, parseListen, serveMetrics, type TreeState } from '../export/prometheus.js';
import type { Io, Selection, Snapshot } from '../memory.js';
import { containerFigures, readCgroupMemory } from '../proc/cgroup.js';
import { readArgv } from '../proc/process.js';
import { takeSnapshot } from '../proc/snapshot.js';
import { renderSmemTable } from '../render/smem-table.js';
import { mib, signedMib } from '../render/units.js';
import type { Role } from '../results/types.js';
import { toProcessRecord } from '../results/types.js';
import { BudgetedSampler } from '../run/sampler.js';
import { checkFlag, LIMITS } from '../scenario/limits.js';
import { FALLBACK_FAMILY, familyForCommand, type ServerFamily } from '../servers/registry.js';
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
 * What a watched tree is, sample after sample: each process's role (the --pid roots with --tree are
 * masters, their children workers), the family guessed from the root's command, worker replacements
 * (a worker gone while another took its place) and copy-on-write efficiency against the master's RSS
 * at the first sample.
 */
class TreeTracker {
  gone = false;
  private replacements = 0;
  /** Workers gone whose successor has not appeared yet (a respawn may come a sample later). */
  private pending = 0;
  private workers = new Set<number>();
  private masterRss: number | undefined;
  private readonly family: ServerFamily;
  constructor(
    private readonly roots: number[],
    private readonly tree: boolean,
  ) {
    const argv = roots[0] === undefined ? undefined : readArgv(roots[0]);
    this.family = argv ? familyForCommand(argv) : FALLBACK_FAMILY;
  }
  private roleOf(pid: number, ppid: number): Role {
    if (!this.tree) return 'other';
    if (this.roots.includes(pid)) return 'master';
    // The family says which of a root's children are workers (a helper process is not).
    return this.roots.includes(ppid) ? this.family.roleOf(pid, ppid, ppid) : 'other';
  }
  state(s: Snapshot, sampler: { cpuSeconds: number; cpuRatio: number; samples: number }): TreeState {
    const processes = s.processes.map((p) => ({ ...p, role: this.roleOf(p.pid, p.ppid) }));
    const now = new Set(processes.filter((p) => p.role === 'worker').map((p) => p.pid));
    const departed = [...this.workers].filter((p) => !now.has(p)).length;
    const arrived = [...now].filter((p) => !this.workers.has(p)).length;
    if (this.workers.size > 0) {
      this.pending += departed;
      const matched = Math.min(this.pending, arrived);
      this.replacements += matched;
      this.pending -= matched;
    }
    if (now.size > 0 || processes.length === 0) this.workers = now;
    const master = processes.find((p) => p.role === 'master');
    this.masterRss ??= master?.rssBytes;
    const sharedOf = (p: (typeof processes)[number]) => (p.fields.Shared_Clean ?? 0) + (p.fields.Shared_Dirty ?? 0);
    const ws = processes.filter((p) => p.role === 'worker');
    const cgroup = this.roots[0] === undefined || processes.length === 0 ? undefined : readCgroupMemory(this.roots[0]);
    return {
      up: processes.length > 0,
      family: this.family.name,
      processes,
      replacements: this.replacements,
      cowEfficiency: this.masterRss && ws.length > 0 ? ws.reduce((a, p) => a + sharedOf(p), 0) / ws.length / this.masterRss : null,
      samplerCpuSeconds: sampler.cpuSeconds,
      samplerCpuRatio: sampler.cpuRatio,
      samples: sampler.samples,
      container: cgroup ? containerFigures(cgroup, new Set(processes.map((p) => p.pid))) : undefined,
    };
  }
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
  const listen = o.listen === undefined ? undefined : parseListen(o.listen);
  const tracker = new TreeTracker(pids ?? [], o.tree);
  const metrics = listen ? createTreeMetrics() : undefined;
  const endpoint = metrics && listen ? await serveMetrics(metrics, listen) : undefined;
  if (endpoint) io.stderr.write(`memcompare: serving metrics at ${endpoint.url} (Ctrl-C to stop)\n`);
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
      if (metrics) {
        const st = sampler.stats();
        metrics.update(tracker.state(s, { cpuSeconds: st.cpuMs / 1000, cpuRatio: st.cpuPercent / 100, samples: st.samples }));
      }
      if (endpoint && !o.json) {
        // Serving: the endpoint is the output.
      } else if (tty) io.stdout.write(`\u001b[H\u001b[2J${draw(s)}`);
      else io.stdout.write(jsonLine(s, Date.now() - started, first));
      if (pids && s.processes.length === 0 && !tracker.gone) {
        tracker.gone = true;
        io.stderr.write(
          `memcompare: the watched processes are gone${endpoint ? '; the endpoint keeps serving (memcompare_tree_up 0)' : ''}\n`,
        );
        if (!endpoint) break;
      }
      if (o.count !== undefined && n >= o.count) break;
      await sleep(sampler.nextDelayMs(), controller.signal).catch(() => {});
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    endpoint?.server.close();
    endpoint?.server.closeAllConnections();
  }
  // Ctrl-C on a terminal: the last state stays on screen, with a final line.
  if (tty && last && controller.signal.aborted) io.stdout.write(`\n${draw(last)}`);
  return 0;
}
