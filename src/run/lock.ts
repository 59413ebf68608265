import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemcompareError } from '../errors.js';

/**
 * The host lock: two runs on one host measure each other (file pages shared between their servers
 * lower both PSS totals), so a run holds an exclusive flock(1) on a file in the runtime folder while
 * it measures. util-linux's flock holds it for a `cat` that reads memcompare's pipe: when memcompare
 * ends, however it ends, the pipe closes and the lock is released. (Node has no flock of its own.)
 */
export function lockPath(): string {
  for (const dir of [process.env.MEMCOMPARE_LOCK_DIR, process.env.XDG_RUNTIME_DIR, '/run/lock', '/run']) {
    if (!dir) continue;
    try {
      accessSync(dir, constants.W_OK);
      return join(dir, 'memcompare.lock');
    } catch {
      // not ours to write
    }
  }
  return join(tmpdir(), 'memcompare.lock');
}

export interface HostLock {
  release(): void;
}

function hold(file: string, wait: boolean): ChildProcess {
  const child = spawn('flock', [...(wait ? [] : ['-n']), '-x', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.on('error', () => {});
  return child;
}

/** Once the lock is held, the holder must not keep memcompare alive. */
function detach(child: ChildProcess): void {
  child.unref();
  for (const s of [child.stdout, child.stdin]) (s as unknown as { unref?: () => void } | null)?.unref?.();
}

function acquired(child: ChildProcess, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolveLock, reject) => {
    const onAbort = () => {
      child.kill('SIGKILL');
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.once('data', () => {
      signal?.removeEventListener('abort', onAbort);
      resolveLock(true);
    });
    child.once('exit', () => {
      signal?.removeEventListener('abort', onAbort);
      resolveLock(false);
    });
  });
}

/** Takes the host lock; waits for another run to finish (saying so) unless `wait` is false. */
export async function acquireHostLock(o: { wait: boolean; say: (line: string) => void; signal?: AbortSignal }): Promise<HostLock> {
  const file = lockPath();
  if (spawnSync('flock', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new MemcompareError('BAD_ARGUMENT', `flock: not found; install util-linux, or pass --no-lock to measure without the host lock`);
  }
  let child = hold(file, false);
  if (!(await acquired(child, o.signal))) {
    if (!o.wait) {
      throw new MemcompareError(
        'LOCKED',
        `host lock ${file}: another memcompare run is measuring on this host; wait for it (leave out --no-wait), or pass --no-lock to measure anyway`,
      );
    }
    o.say(`memcompare: another memcompare run is measuring on this host (lock ${file}); waiting for it to finish`);
    child = hold(file, true);
    if (!(await acquired(child, o.signal))) {
      throw new MemcompareError('LOCKED', `host lock ${file}: could not be taken; pass --no-lock to measure anyway`);
    }
  }
  detach(child);
  // Closing the pipe ends the `cat` that holds the lock (killing flock would leave its child holding it).
  return { release: () => child.stdin?.destroy() };
}
