import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { MemcompareError } from '../errors.js';
import type { LaunchRequest } from './seams.js';
import { underSubreaper } from './subreaper.js';

/** A launched server: its process (leader of its own process group) and its captured output. */
export interface LaunchedServer {
  child: ChildProcess;
  pid: number;
  /** Kills the server's process group if memcompare dies without stopping it (see startGuard). */
  guard: ChildProcess | undefined;
  /** The run's own folders (LaunchRequest.folders): the last-resort teardown removes them with the server. */
  folders: readonly string[];
  argv: string[];
  /** Every pid seen in its tree, so teardown can check each one is gone. */
  knownPids: Set<number>;
  /** Run under memcompare's subreaper: the launched pid is the wrapper's, the server its child. */
  wrapped: boolean;
  /** Resolves when the launched process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The launched process's exit code (null while it runs or when a signal ended it). */
  exitCode(): number | null;
  /** The last lines the server printed (stdout and stderr, interleaved). */
  lastLines(n?: number): string[];
  /** Full captured output (bounded). */
  output(): string;
  /** Calls `listener` with each piece of output as it arrives; returns the unsubscribe. */
  onOutput(listener: (text: string) => void): () => void;
}

const live = new Set<LaunchedServer>();
/** Servers started and not yet stopped: teardown on any exit path walks this set. */
export function liveServers(): ReadonlySet<LaunchedServer> {
  return live;
}
export function forget(server: LaunchedServer): void {
  live.delete(server);
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

// setpriv --pdeathsig makes the kernel kill the server if memcompare itself is SIGKILLed.
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = existsSync(SETPRIV);

export async function launch(o: LaunchRequest): Promise<LaunchedServer> {
  const [program, ...rest] = o.argv;
  if (!program) throw new MemcompareError('BAD_ARGUMENT', '--command "": empty command; name the server program');
  // A server whose supervisor daemonizes runs under a subreaper (run/subreaper.ts): it stays in the tree; memcompare
  // gone, the wrapper gets SIGTERM and kills every descendant (a SIGKILL would leave the daemonized ones running).
  const wrapper = o.subreaper ? underSubreaper([program, ...rest]) : undefined;
  const command = wrapper?.argv ?? [program, ...rest];
  const deathSignal = wrapper?.wrapped ? 'TERM' : 'KILL';
  const argv = hasSetpriv ? [SETPRIV, '--pdeathsig', deathSignal, '--', ...command] : command;
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: o.cwd,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...o.env },
    // Its own process group: a terminal's Ctrl-C reaches memcompare only, and teardown can kill the group.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const listeners = new Set<(text: string) => void>();
  let size = 0;
  const keep = (data: Buffer) => {
    const text = data.toString('utf8');
    for (const l of listeners) l(text);
    chunks.push(text);
    size += text.length;
    while (size > 256 * 1024 && chunks.length > 1) size -= (chunks.shift() as string).length;
    o.echo?.write(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      resolveExit({ code, signal });
    });
  });
  const spawnError = await new Promise<Error | undefined>((resolveSpawn) => {
    child.once('spawn', () => resolveSpawn(undefined));
    child.once('error', (e) => resolveSpawn(e));
  });
  if (spawnError || child.pid === undefined) {
    throw new MemcompareError(
      'SERVER_DIED',
      `--command ${JSON.stringify(o.argv.join(' '))}: could not start ${program} (${spawnError?.message ?? 'no pid'}); check that it is installed and on PATH`,
      {
        cause: spawnError,
      },
    );
  }
  const output = () => chunks.join('');
  // What the server writes to its own error log during this boot: the file may hold earlier boots' lines.
  const logStart = o.errorLog ? fileSize(o.errorLog) : 0;
  const logLines = (n: number): string[] => {
    if (!o.errorLog) return [];
    const text = readFrom(o.errorLog, logStart);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    return lines.length > 0 ? [`(${o.errorLog}:)`, ...lines.slice(-n)] : [];
  };
  const server: LaunchedServer = {
    child,
    pid: child.pid,
    guard: startGuard(child.pid, wrapper?.wrapped === true, o.folders ?? []),
    folders: o.folders ?? [],
    wrapped: wrapper?.wrapped === true,
    argv: o.argv,
    knownPids: new Set([child.pid]),
    exited,
    hasExited: () => exitedFlag,
    exitCode: () => child.exitCode,
    output,
    onOutput(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lastLines: (n = 15) => {
      const lines = output()
        .split('\n')
        .filter((l) => l.trim() !== '');
      const tail = lines.slice(-n);
      // A long traceback can push the actual error out of the tail: keep the error lines too.
      const errors = lines.slice(0, -n).filter((l) => /\b\w*(Error|Exception)\b:/.test(l) && !tail.includes(l));
      return [...new Set(errors)].slice(-3).concat(errors.length > 0 ? ['…'] : [], tail, logLines(tail.length > 0 ? 5 : n));
    },
  };
  live.add(server);
  return server;
}

/**
 * A guard for the case no handler can catch: memcompare killed with SIGKILL (or crashing hard).
 * A small shell, in a group of its own, blocks reading a pipe whose only writer is memcompare; when
 * memcompare dies the pipe closes and the shell SIGKILLs the server's whole process group at once.
 * (setpriv's pdeathsig kills only the master; the workers would linger until their own timeout, up to 30 s.)
 * Then it removes the run's own folders (`folders`, made by memcompare with mkdtemp), which no handler of memcompare's
 * could: a run killed so left behind the pid file and log its server wrote there, one folder a test run.
 * A normal stop kills the guard first, so it never signals a group whose id may be reused.
 */
function startGuard(pgid: number, subreaper: boolean, folders: readonly string[]): ChildProcess | undefined {
  // Under the subreaper wrapper, SIGTERM first: the wrapper kills the descendants that left the group (daemonized).
  const kill = subreaper
    ? '/bin/kill -s TERM -- "$1" 2>/dev/null; sleep 1; /bin/kill -s KILL -- "-$1" 2>/dev/null'
    : '/bin/kill -s KILL -- "-$1" 2>/dev/null';
  // A process killed mid-write may still add a file as rm reads the folder: a second try a moment later.
  const remove = folders.length > 0 ? '; shift; rm -rf -- "$@" 2>/dev/null || { sleep 0.2; rm -rf -- "$@"; }' : '';
  try {
    const guard = spawn('/bin/sh', ['-c', `cat >/dev/null; ${kill}${remove}`, 'memcompare-guard', String(pgid), ...folders], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    guard.on('error', () => {});
    guard.unref();
    (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return guard;
  } catch {
    return undefined;
  }
}

/** A file's size, 0 when it does not exist yet. */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A file's text from `offset` on, its last 64 KiB at most; empty when it cannot be read. */
function readFrom(path: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const end = fstatSync(fd).size;
    const start = Math.max(offset > end ? 0 : offset, end - 64 * 1024);
    const buf = Buffer.alloc(end - start);
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
