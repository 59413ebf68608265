import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MemcompareError } from '../errors.js';
import type { BatchResult, LoadGenerator } from './seams.js';

const SETPRIV = '/usr/bin/setpriv';

export interface CommandWarmup {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

/**
 * One run of a warm-up command (anything that is not HTTP: a task queue's sender): every stdout line
 * that is a pid is the worker that served one unit of work. It dies with memcompare (setpriv's
 * parent-death signal), is killed at its timeout, and a failure is one line naming the command.
 */
export function runWarmupCommand(c: CommandWarmup, signal?: AbortSignal): Promise<{ pids: number[]; durationMs: number }> {
  const [program, ...rest] = c.argv;
  const argv = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--', program as string, ...rest] : (c.argv as string[]);
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: c.cwd,
      env: { ...process.env, ...c.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const shown = JSON.stringify(c.argv.join(' '));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new MemcompareError(
          'BAD_ARGUMENT',
          `warmup.command ${shown}: did not finish within ${c.timeoutMs / 1000} s; make it end once its work is done, or raise warmup.timeoutSeconds`,
        ),
      );
    }, c.timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new MemcompareError(
          'BAD_ARGUMENT',
          `warmup.command ${shown}: cannot be run (${e.message}); check that it is installed and on PATH`,
        ),
      );
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason);
      if (code !== 0) {
        const last = err.trim().split('\n').filter(Boolean).at(-1) ?? '(no output)';
        return reject(
          new MemcompareError(
            'BAD_ARGUMENT',
            `warmup.command ${shown}: exited ${code ?? sig}: ${last}; fix the command (it must do the work and print the pid of the worker that served each unit)`,
          ),
        );
      }
      const pids = out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      resolveRun({ pids, durationMs: Date.now() - started });
    });
  });
}

/** The load generator of a command warm-up (and soak): one command run per batch, each printed pid a response. */
export function commandLoad(c: CommandWarmup): LoadGenerator {
  return {
    async batch(_url, _settings, _amount, onResponse, signal) {
      const r = await runWarmupCommand(c, signal);
      for (const pid of r.pids) onResponse(200, String(pid));
      return { requests: r.pids.length, sent: r.pids.length, errors: 0, timeouts: 0, latenciesMs: [r.durationMs] } satisfies BatchResult;
    },
    reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
  };
}
