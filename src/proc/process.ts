import { existsSync, readFileSync } from 'node:fs';
import { errnoOf } from '../errors.js';
import type { ProcessMemory, SkippedProcess, SkipReason } from '../memory.js';
import { deriveAmounts, formatCmdline, parseRollup, parseStatus, sumSmaps } from './smaps.js';
import { userName } from './users.js';

/** Decides from name, command line and uid whether a process is wanted at all. */
export type ProcessFilter = (p: { name: string; command: string; uid: number }) => boolean;

export type ReadResult = { ok: true; process: ProcessMemory } | { ok: false; skipped: SkippedProcess };

function skip(pid: number, reason: SkipReason, detail: string): ReadResult {
  return { ok: false, skipped: { pid, reason, detail } };
}

function reasonFor(errno: string | undefined): SkipReason {
  switch (errno) {
    case 'ENOENT':
    case 'ESRCH':
      return 'exited';
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    default:
      return 'unreadable';
  }
}

const rollupSupport = new Map<string, boolean>();
/** smaps_rollup exists since Linux 4.14; before that, smaps is summed instead. */
function hasRollup(procRoot: string, pid: number): boolean {
  if (procRoot !== '/proc') return existsSync(`${procRoot}/${pid}/smaps_rollup`);
  let known = rollupSupport.get(procRoot);
  if (known === undefined) {
    known = existsSync('/proc/self/smaps_rollup');
    rollupSupport.set(procRoot, known);
  }
  return known;
}

/**
 * Reads one process's memory. Never throws for a process that exits or cannot be read:
 * it returns the reason instead (processes come and go during any snapshot).
 */
export function readProcess(pid: number, procRoot = '/proc', accept?: ProcessFilter): ReadResult | null {
  const dir = `${procRoot}/${pid}`;
  let step = 'cmdline';
  try {
    const cmdline = readFileSync(`${dir}/cmdline`, 'utf8');
    step = 'status';
    const status = parseStatus(readFileSync(`${dir}/status`, 'utf8'));
    if (status.state === 'Z') return skip(pid, 'zombie', 'state Z in status');
    // smem treats an empty command line as a kernel thread.
    if (cmdline === '') return skip(pid, 'kernel-thread', 'empty cmdline');
    const command = formatCmdline(cmdline);
    // Filter on the cheap files before the page-table walk of smaps_rollup.
    if (accept && !accept({ name: status.name, command, uid: status.uid })) return null;
    let fields: Record<string, number>;
    let source: ProcessMemory['source'];
    if (hasRollup(procRoot, pid)) {
      step = 'smaps_rollup';
      fields = parseRollup(readFileSync(`${dir}/smaps_rollup`, 'utf8'));
      source = 'smaps_rollup';
    } else {
      step = 'smaps';
      fields = sumSmaps(readFileSync(`${dir}/smaps`, 'utf8')).fields;
      source = 'smaps';
    }
    if (!('Rss' in fields)) {
      // An empty read: the process exited between open and read, or it has no mm.
      return skip(pid, 'exited', `empty ${step}`);
    }
    return {
      ok: true,
      process: {
        pid,
        ppid: status.ppid,
        uid: status.uid,
        user: userName(status.uid),
        name: status.name,
        command,
        ...deriveAmounts(fields),
        vssBytes: status.vssBytes,
        source,
        fields,
      },
    };
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === undefined) throw error;
    return skip(pid, reasonFor(errno), `${errno} at ${step}`);
  }
}

/** A process's argument vector from /proc/<pid>/cmdline; undefined once it is gone or unreadable. */
export function readArgv(pid: number, procRoot = '/proc'): string[] | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
  } catch {
    return undefined;
  }
}
