import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, type LaunchedServer, launch } from '../src/run/launch.js';
import { waitReady } from '../src/run/ready.js';
import { stopServer } from '../src/run/stop.js';
import { gunicorn } from '../src/servers/gunicorn.js';

/** The repository root (tests run from dist/test). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'memcompare.cjs');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const SEED_APP = join(ROOT, 'scenarios', 'apps', 'numpy-matplotlib');

/** A temporary folder for one test file, removed when the file's tests are done (a CI run left ~100 behind). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A git repository in a temporary folder, filled by `populate` and committed as "base". */
export function gitRepo(
  prefix: string,
  populate: (dir: string) => void,
): { dir: string; git: (...args: string[]) => string; commit: (message: string) => void } {
  const dir = tempDir(prefix);
  populate(dir);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-qm', message);
  };
  commit('base');
  return { dir, git, commit };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A `run` in the tests keeps its throughput phase, shortened to half a second unless the test sets it: every
 * family and protocol still goes through the phase, and the suite does not spend 3 s on it per run
 * (test/integration/throughput.test.ts measures it at its full length against hey).
 */
function shortThroughput(args: string[]): string[] {
  const sets = args.some((a) => a === '--no-throughput' || a.startsWith('--throughput-duration'));
  return args[0] === 'run' && !sets ? [...args, '--throughput-duration', '0.5'] : args;
}

export function cli(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...shortThroughput(args)], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    // SIGKILL: a memcompare that hangs past SIGTERM must not hang the test too (its guard stops its servers).
    killSignal: 'SIGKILL',
    // A server's own request log (--show-output) passes spawnSync's 1 MiB default, which kills the child.
    maxBuffer: 256 * 1048576,
    env: { ...process.env, ...options.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the CLI asynchronously (for tests that signal it mid-run). Pass the test's `t.signal`: when the
 * test ends or times out, memcompare is SIGKILLed and its guard stops its servers, so a failing test
 * never leaves processes behind or hangs its file.
 */
export function cliAsync(args: string[], signal?: AbortSignal, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...shortThroughput(args)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    ...(signal ? { signal, killSignal: 'SIGKILL' as const } : {}),
  });
  child.on('error', () => {}); // the abort itself
  return child;
}

export interface TestServer {
  server: LaunchedServer;
  port: number;
  stop(): Promise<void>;
}

/** A real gunicorn tree serving the seed app, ready (all workers idle) when this resolves. */
export async function startGunicorn(
  o: { preload?: boolean; workers?: number; app?: string; cwd?: string; workerArgs?: string[] } = {},
): Promise<TestServer> {
  const port = await freeLoopbackPort();
  const workers = o.workers ?? 5;
  const argv = [
    'gunicorn',
    `--bind=127.0.0.1:${port}`,
    `--workers=${workers}`,
    ...(o.workerArgs ?? ['--worker-class=sync']),
    ...(o.preload ? ['--preload'] : []),
    o.app ?? 'wsgi:application',
  ];
  const server = await launch({ argv, cwd: o.cwd ?? SEED_APP, env: {} });
  try {
    await waitReady(server, gunicorn, { port, path: '/', workers, timeoutMs: 120_000 });
  } catch (error) {
    await stopServer(server, gunicorn);
    throw error;
  }
  return { server, port, stop: async () => void (await stopServer(server, gunicorn)) };
}

/** True while a process exists and is not a zombie. */
export { isAlive } from '../src/proc/stat.js';

/** smem, held open around memcompare's own reading (see fixtures/smem-hold.py). */
export class HeldSmem {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  constructor(args: string[]) {
    this.child = spawn('/usr/bin/python3', [join(FIXTURES, 'smem-hold.py'), ...args]);
    this.child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
  }
  get pid(): number {
    return this.child.pid as number;
  }
  private until(marker: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.out.includes(marker)) {
          this.child.stdout.off('data', check);
          resolve();
        }
      };
      this.child.stdout.on('data', check);
      this.child.once('exit', () => reject(new Error(`smem exited early: ${this.out}`)));
      check();
    });
  }
  /** Started, and smem has run once already so that its interpreter has touched what it touches. */
  async ready(): Promise<void> {
    await this.until('ready\n');
    await this.run();
  }
  async run(): Promise<string> {
    this.out = '';
    this.child.stdin.write('\n');
    await this.until('--done--\n');
    return this.out.slice(0, this.out.indexOf('--done--\n'));
  }
  finish(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/**
 * The CLI run as `nobody` (setpriv), so that this root-owned test process is one it may not read;
 * undefined when the tests do not run as root (then the case cannot be made).
 */
export function cliAsNobody(args: string[]): CliResult | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    cwd: '/',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every run of every variant served through its warm-up by every one of its `workers` workers, with evidence. */
export function assertEveryWorkerServed(doc: import('../src/results/types.js').ResultsDocument, workers: number): void {
  for (const v of doc.variants) {
    for (const run of v.runs) {
      if (run.warmup.trafficEvidence !== 'pid-header') throw new Error(`${v.name}: evidence ${run.warmup.trafficEvidence}`);
      if (run.warmup.idleWorkers.length > 0) throw new Error(`${v.name}: idle workers ${run.warmup.idleWorkers.join(', ')}`);
      const served = Object.keys(run.warmup.requestsPerWorker ?? {}).length;
      const measured = run.processes.filter((p) => p.role === 'worker').length;
      if (served !== workers || measured !== workers)
        throw new Error(`${v.name}: ${served} workers served, ${measured} measured, ${workers} expected`);
    }
  }
}
