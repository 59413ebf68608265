import { basename } from 'node:path';
import { type Clock, realClock } from '../clock.js';
import { MemcompareError } from '../errors.js';
import { readArgv } from '../proc/process.js';
import { portOwner } from '../proc/sockets.js';
import { isAlive, readStat } from '../proc/stat.js';
import { listPids, withDescendants } from '../proc/tree.js';
import type { ServerFamily } from '../servers/family.js';
import { terminate } from './stop.js';

/**
 * Processes the launched command left behind when it daemonized (a --daemon, --daemonize or -D flag,
 * any double fork): started since the launch (absent from `before`), not in
 * memcompare's session, and running the launched program with the command's last argument. Before
 * anything is signalled, one of them must hold the port, which was free before the launch.
 * Waits up to `waitMs` for the port to be taken. Returns the roots (their descendants follow).
 */
export async function findEscapees(
  argv: readonly string[],
  before: ReadonlySet<number>,
  port: number,
  clock: Clock = realClock,
  waitMs = 3000,
): Promise<number[]> {
  const program = basename(argv[0] ?? '');
  const last = argv.at(-1) ?? '';
  const mySession = readStat(process.pid)?.session;
  const deadline = clock.now() + waitMs;
  while (true) {
    const candidates = listPids().filter((pid) => {
      if (before.has(pid) || pid === process.pid) return false;
      const stat = readStat(pid);
      if (!stat || stat.session === mySession) return false;
      const args = readArgv(pid);
      if (!args) return false;
      const joined = args.join(' ');
      return joined.includes(program) && (argv.length < 2 || joined.includes(last));
    });
    // No process of the launched program in another session for a second: nothing escaped. (A
    // daemonizing child calls setsid() just after its parent exits: give it that moment.)
    if (candidates.length === 0 && clock.now() > deadline - waitMs + 1000) return [];
    const holder = portOwner(port);
    if (holder !== undefined && candidates.includes(holder)) {
      const set = new Set(candidates);
      return candidates.filter((pid) => !set.has(readStat(pid)?.ppid ?? -1));
    }
    if (clock.now() >= deadline) return [];
    await clock.sleep(50);
  }
}

/** Stops escaped processes: the family's stop signal, a bounded wait, then SIGKILL to what is left. */
export async function stopEscapees(roots: number[], family: ServerFamily, clock: Clock = realClock): Promise<number[]> {
  const all = withDescendants(roots);
  const send = (pids: number[], signal: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    }
  };
  await terminate({
    graceful: () => send(roots, family.stopSignal),
    remaining: () => all.filter(isAlive),
    kill: () => send(all.filter(isAlive), 'SIGKILL'),
    boundMs: family.stopTimeoutMs,
    clock,
  });
  return all;
}

export function daemonizedError(argv: readonly string[], pids: number[]): MemcompareError {
  return new MemcompareError(
    'SERVER_DAEMONIZED',
    `--command ${JSON.stringify(argv.join(' '))}: the server daemonized (its process exited and pid ${pids[0]} went on in a session of its own, holding the port), so it cannot be measured or stopped as launched; memcompare stopped ${pids.length} process${pids.length === 1 ? '' : 'es'} it had started. Run it in the foreground: drop its daemonize flag or setting (--daemon, --daemonize, -D, daemonize = yes)`,
  );
}
