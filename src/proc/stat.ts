import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat that memcompare uses. */
export interface ProcStat {
  /** Scheduler state letter: R running, S sleeping, D disk sleep, Z zombie, … */
  state: string;
  ppid: number;
  /** Session: a daemonizing server leaves memcompare's. */
  session: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from the last ')'. The one parser of this file in memcompare.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  if (f[0] === undefined || f[0] === '' || !Number.isFinite(ppid)) return undefined;
  return { state: f[0], ppid, session: Number(f[3]) };
}

export function readStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a zombie holds no memory and only waits to be reaped). */
export function isAlive(pid: number): boolean {
  const s = readStat(pid);
  return s !== undefined && s.state !== 'Z';
}

export interface CpuState {
  /**
   * CPU time of the whole process so far, nanoseconds: the sum of every thread's /proc/<pid>/task/<tid>/schedstat
   * (finer than stat's clock ticks). /proc/<pid>/schedstat alone is the main thread's, and a threaded worker
   * (a thread pool per worker, as Ruby and Python threaded servers have) serves on other threads.
   */
  cpuNs: number;
  /**
   * utime + stime of /proc/<pid>/stat, clock ticks: the whole thread group, threads that have exited included
   * (a thread that exits takes its schedstat with it, so cpuNs can fall; this cannot).
   */
  groupTicks: number;
  /** Scheduler state letter from /proc/<pid>/stat. */
  state: string;
  ppid: number;
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat text, clock ticks. */
export function groupTicks(text: string): number {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Counted from the state (field 3): utime is field 14, stime field 15.
  return (Number(f[11]) || 0) + (Number(f[12]) || 0);
}

/** The sum of the first field (time on CPU, ns) of each thread's schedstat text. */
export function threadsCpuNs(schedstats: readonly string[]): number {
  let ns = 0;
  for (const t of schedstats) ns += Number(t.split(' ')[0]) || 0;
  return ns;
}

/** A process's CPU time over all its threads, its state and parent; undefined once it is gone. */
export function cpuState(pid: number, procRoot = '/proc'): CpuState | undefined {
  try {
    const statText = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const stat = parseStat(statText);
    if (!stat) return undefined;
    const texts: string[] = [];
    let tids: string[];
    try {
      tids = readdirSync(`${procRoot}/${pid}/task`);
    } catch {
      tids = [];
    }
    for (const tid of tids) {
      try {
        texts.push(readFileSync(`${procRoot}/${pid}/task/${tid}/schedstat`, 'utf8'));
      } catch {
        // A thread that exited between the listing and the read.
      }
    }
    if (texts.length === 0) texts.push(readFileSync(`${procRoot}/${pid}/schedstat`, 'utf8'));
    return { cpuNs: threadsCpuNs(texts), groupTicks: groupTicks(statText), state: stat.state, ppid: stat.ppid };
  } catch {
    return undefined;
  }
}
