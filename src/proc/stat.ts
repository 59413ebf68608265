import { readFileSync } from 'node:fs';

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
  /** CPU time used so far, nanoseconds (/proc/<pid>/schedstat: finer than stat's clock ticks). */
  cpuNs: number;
  /** Scheduler state letter from /proc/<pid>/stat. */
  state: string;
  ppid: number;
}

export function cpuState(pid: number): CpuState | undefined {
  try {
    const schedstat = readFileSync(`/proc/${pid}/schedstat`, 'utf8');
    const stat = readStat(pid);
    if (!stat) return undefined;
    return { cpuNs: Number(schedstat.split(' ')[0]), state: stat.state, ppid: stat.ppid };
  } catch {
    return undefined;
  }
}
