import { existsSync, rmSync } from 'node:fs';
import { type Clock, nowMs, realClock, within } from '../clock.js';
import { isAlive } from '../proc/stat.js';
import { withDescendants } from '../proc/tree.js';
import type { ServerFamily } from '../servers/family.js';
import { forget, type LaunchedServer, liveServers } from './launch.js';

/**
 * Adds every process of a running server's tree to its known pids: a process that left the group (a daemonized
 * supervisor, kept in the tree by the subreaper) or started since the last read is then killed by pid.
 */
function gatherTree(server: LaunchedServer): void {
  if (server.hasExited() || !existsSync(`/proc/${server.pid}`)) return;
  for (const pid of withDescendants([server.pid])) server.knownPids.add(pid);
}

function signalGroup(server: LaunchedServer, signal: NodeJS.Signals): void {
  try {
    process.kill(-server.pid, signal);
  } catch {
    // group already gone
  }
  for (const pid of server.knownPids) {
    try {
      if (pid !== server.pid && signal === 'SIGKILL') process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/**
 * The one stop loop (servers and escaped daemons alike): the graceful signal, a bounded wait until
 * nothing remains, then SIGKILL and a second bounded wait. `forced` says whether SIGKILL was needed.
 */
export async function terminate(o: {
  graceful: () => void;
  remaining: () => number[];
  kill: () => void;
  boundMs: number;
  clock?: Clock;
}): Promise<{ forced: boolean }> {
  const clock = o.clock ?? realClock;
  if (o.remaining().length === 0) return { forced: false };
  o.graceful();
  const deadline = clock.now() + o.boundMs;
  while (o.remaining().length > 0 && clock.now() < deadline) await clock.sleep(20);
  if (o.remaining().length === 0) return { forced: false };
  o.kill();
  const hardDeadline = clock.now() + 5000;
  while (o.remaining().length > 0 && clock.now() < hardDeadline) await clock.sleep(20);
  return { forced: true };
}

/**
 * Stops a server: its own stop signal to the master, a bounded wait for every process of its tree
 * to be gone, then SIGKILL to the whole group and every pid seen. Resolves when nothing is left.
 */
export async function stopServer(
  server: LaunchedServer,
  family: ServerFamily,
  boundMs = family.stopTimeoutMs,
): Promise<{ forced: boolean; ms: number }> {
  const started = nowMs();
  gatherTree(server);
  const remaining = () => [...server.knownPids].filter((pid) => isAlive(pid) && (pid !== server.pid || !server.hasExited()));
  const { forced } = await terminate({
    graceful: () => {
      try {
        process.kill(server.pid, family.stopSignal);
      } catch {
        // already gone
      }
    },
    remaining,
    kill: () => {
      gatherTree(server);
      signalGroup(server, 'SIGKILL');
    },
    boundMs,
  });
  if (!server.hasExited()) await within(server.exited, 2000, () => undefined);
  server.guard?.kill('SIGKILL');
  forget(server);
  return { forced, ms: nowMs() - started };
}

/** Last resort on process exit: synchronous SIGKILL to everything still running. */
export function killAllNow(): void {
  for (const server of liveServers()) {
    gatherTree(server);
    signalGroup(server, 'SIGKILL');
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // gone
    }
    server.guard?.kill('SIGKILL');
    // The guard is gone with its folders to remove: removed here (a process just killed may still be writing one).
    for (const folder of server.folders) {
      try {
        rmSync(folder, { recursive: true, force: true, maxRetries: 2 });
      } catch {
        // left: nothing more can be done on the way out
      }
    }
  }
}
