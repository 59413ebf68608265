import { existsSync } from 'node:fs';
import { nowMs } from '../clock.js';
import { MemcompareError } from '../errors.js';
import type { ObserverRecord, ProcessMemory, Selection, SkippedProcess, Snapshot, SnapshotTotals } from '../memory.js';
import { type ObservedFrames, observeFrames, observerShares } from './observer.js';
import { type ProcessFilter, type ReadResult, readProcess } from './process.js';
import { listPids, withDescendants } from './tree.js';
import { uidOf } from './users.js';

export interface SnapshotOptions {
  /** Root of the proc filesystem (tests point it at recorded text). */
  procRoot?: string;
  /**
   * Throw instead of skipping when an explicitly named pid is missing or unreadable
   * (the CLI wants an error; a run, whose workers come and go, wants a skip).
   */
  strictPids?: boolean;
  /**
   * Add memcompare's own share of the processes' pages back to them (proc/observer.ts). On by default with
   * the real /proc; off for recorded text, which has no frames to read.
   */
  observer?: boolean;
}

export function sumTotals(processes: readonly ProcessMemory[]): SnapshotTotals {
  const t: SnapshotTotals = {
    processes: processes.length,
    ussBytes: 0,
    pssBytes: 0,
    rssBytes: 0,
    swapBytes: 0,
    swapPssBytes: 0,
    pssAnonBytes: 0,
    pssFileBytes: 0,
    vssBytes: 0,
  };
  for (const p of processes) {
    t.ussBytes += p.ussBytes;
    t.pssBytes += p.pssBytes;
    t.rssBytes += p.rssBytes;
    t.swapBytes += p.swapBytes;
    t.swapPssBytes += p.swapPssBytes ?? 0;
    t.pssAnonBytes += p.pssAnonBytes ?? 0;
    t.pssFileBytes += p.pssFileBytes ?? 0;
    t.vssBytes += p.vssBytes;
  }
  return t;
}

/** memcompare's own pid and the pids of everything it started, which a snapshot never lists. */
function ownProcesses(procRoot: string, explicit: boolean): Set<number> {
  const own = new Set<number>([process.pid]);
  // With named pids only those trees are read, and a tree named explicitly is wanted even if it is
  // ours (a run measures the server it started): only listing everything must skip our children.
  if (explicit || procRoot !== '/proc') return own;
  for (const pid of withDescendants([process.pid], procRoot)) own.add(pid);
  return own;
}

function explicitFailure(pid: number, result: Extract<ReadResult, { ok: false }>): MemcompareError {
  const { reason, detail } = result.skipped;
  if (reason === 'permission') {
    return new MemcompareError(
      'PERMISSION',
      `--pid ${pid}: permission denied reading /proc/${pid}/smaps_rollup (${detail}); run memcompare as the process's user or as root (it needs ptrace-read access)`,
    );
  }
  if (reason === 'exited') {
    return new MemcompareError('NO_SUCH_PROCESS', `--pid ${pid}: no such process; pass the pid of a running process (see ps -e)`);
  }
  return new MemcompareError(
    'BAD_ARGUMENT',
    `--pid ${pid}: cannot be measured (${reason}: ${detail}); pass the pid of a user-space process`,
  );
}

/** Measures the selected processes: the library form of `memcompare snapshot`. */
export function takeSnapshot(selection: Selection = {}, options: SnapshotOptions = {}): Snapshot {
  const procRoot = options.procRoot ?? '/proc';
  const started = nowMs();
  const takenAt = new Date().toISOString();
  const explicit = selection.pids && selection.pids.length > 0;

  if (explicit && options.strictPids) {
    for (const pid of selection.pids ?? []) {
      if (!existsSync(`${procRoot}/${pid}`)) {
        throw new MemcompareError('NO_SUCH_PROCESS', `--pid ${pid}: no such process; pass the pid of a running process (see ps -e)`);
      }
    }
  }
  const roots = selection.pids ?? [];
  const candidates = !explicit ? listPids(procRoot) : selection.tree ? withDescendants(roots, procRoot) : [...new Set(roots)];
  const own = ownProcesses(procRoot, Boolean(explicit));
  let uid: number | undefined;
  if (selection.user !== undefined) {
    uid = uidOf(selection.user);
    if (uid === undefined) {
      throw new MemcompareError(
        'BAD_ARGUMENT',
        `--user ${JSON.stringify(selection.user)}: no such user; pass a name from /etc/passwd or a numeric uid`,
      );
    }
  }

  const { match } = selection;
  const accept: ProcessFilter | undefined =
    uid === undefined && !match
      ? undefined
      : (p) => (uid === undefined || p.uid === uid) && (!match || match.test(p.command) || match.test(p.name));
  // What memcompare maps before it reads anyone: the pages it faults in later took nothing from those reads.
  const frames = (options.observer ?? procRoot === '/proc') ? observeFrames() : undefined;
  const processes: ProcessMemory[] = [];
  const skipped: SkippedProcess[] = [];
  const rootSet = new Set(selection.pids ?? []);
  for (const pid of candidates) {
    if (own.has(pid)) continue;
    const result = readProcess(pid, procRoot, accept);
    if (result === null) continue;
    if (!result.ok) {
      if (explicit && options.strictPids && rootSet.has(pid)) throw explicitFailure(pid, result);
      // Kernel threads are not processes a user asked about unless named (smem hides them too).
      if (result.skipped.reason !== 'kernel-thread' || rootSet.has(pid)) skipped.push(result.skipped);
      continue;
    }
    processes.push(result.process);
  }
  const observer = frames && processes.length > 0 ? addObserverShare(processes, frames) : undefined;
  return {
    schemaVersion: 1,
    takenAt,
    durationMs: nowMs() - started,
    processes,
    totals: sumTotals(processes),
    skipped,
    ...(observer ? { observer } : {}),
  };
}

/** Adds memcompare's share of each process's pages back to its PSS and USS (proc/observer.ts). */
export function addObserverShare(processes: ProcessMemory[], frames?: ObservedFrames): ObserverRecord {
  const sizes = new Map(processes.map((p) => [p.pid, { vssBytes: p.vssBytes, rssBytes: p.rssBytes }]));
  const shares = observerShares(
    processes.map((p) => p.pid),
    { ...(frames ? { frames } : {}), sizes, parents: new Map(processes.map((p) => [p.pid, p.ppid])) },
  );
  let pss = 0;
  let uss = 0;
  for (const p of processes) {
    const s = shares.byPid.get(p.pid);
    if (!s || (s.pssBytes === 0 && s.ussBytes === 0)) continue;
    p.observer = s;
    p.pssBytes += s.pssBytes;
    p.ussBytes += s.ussBytes;
    // The shared pages are a library's: file-backed.
    if (p.pssFileBytes !== null) p.pssFileBytes += s.pssBytes;
    pss += s.pssBytes;
    uss += s.ussBytes;
  }
  return {
    method: shares.method,
    ...(shares.reason ? { reason: shares.reason } : {}),
    observerPids: [process.pid],
    pssBytes: pss,
    ussBytes: uss,
  };
}
