import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MemcompareError } from '../errors.js';
import type { BatchResult, CommandRun, LoadGenerator, OnResponse, WarmupProtocol } from './protocol.js';

const SETPRIV = '/usr/bin/setpriv';

/**
 * The real wire's command (anything that is not a request to a port: a task queue's sender), run to its end.
 * It dies with memcompare (setpriv's parent-death signal), is killed at its timeout, and a failure is one
 * line naming the command.
 */
export function runCommand(c: CommandRun, signal?: AbortSignal): Promise<{ stdout: string; durationMs: number }> {
  const [program, ...rest] = c.argv;
  // setpriv sets the parent-death signal after it starts: if memcompare died in between (a SIGKILL right as
  // the warm-up starts), no signal ever comes and the command ran on as an orphan (seen: a task-queue sender
  // left trying to reach a Redis that was gone). The shell, started after the signal is set, checks that
  // its parent is still memcompare, and gives up otherwise.
  const argv = existsSync(SETPRIV)
    ? [
        SETPRIV,
        '--pdeathsig',
        'KILL',
        '--',
        '/bin/sh',
        '-c',
        `[ "$PPID" = "${process.pid}" ] || exit 125; exec "$@"`,
        'sh',
        program as string,
        ...rest,
      ]
    : (c.argv as string[]);
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
      resolveRun({ stdout: out, durationMs: Date.now() - started });
    });
  });
}

/** The pids a warm-up command printed, one per line: each the worker that served one unit of work. */
export const printedPids = (stdout: string): number[] =>
  stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);

/** Work sent by a command (a task queue's sender): one command run per round, each printed pid an answer. */
export const commandProtocol: WarmupProtocol = {
  name: 'command',
  names: [],
  describe: '',
  schema: {
    command: {
      type: 'array',
      items: { type: 'string' },
      'x-fix': 'must be an array of strings (an argument vector)',
      minItems: 1,
      description:
        'A warm-up by command, for a pool that does not speak HTTP: it does the work (sends tasks, waits for results) and prints the pid of the worker that served each unit, one per line. {services.NAME.port} is filled in.',
    },
    timeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: 120,
      description: 'Bound on one run of the warm-up command.',
    },
  },
  flags: {},
  watchesPort: () => false,
  load(settings, wire, run): LoadGenerator {
    const once = async (onResponse: OnResponse, signal?: AbortSignal): Promise<BatchResult> => {
      const argv = settings.command ?? [];
      const r = await wire.command({ argv, cwd: run.cwd, env: run.env, timeoutMs: (settings.timeoutSeconds ?? 120) * 1000 }, signal);
      const pids = printedPids(r.stdout);
      for (const pid of pids) onResponse(200, String(pid));
      return { requests: pids.length, sent: pids.length, errors: 0, timeouts: 0, latenciesMs: [r.durationMs] };
    };
    // A round of `amount` is a run of the command per `connections` requests (the command says how much work a run is).
    const rounds = async (amount: number, onResponse: OnResponse, signal?: AbortSignal): Promise<BatchResult> => {
      const out: BatchResult = { requests: 0, sent: 0, errors: 0, timeouts: 0, latenciesMs: [] };
      for (let left = amount; left > 0; left -= settings.connections) {
        signal?.throwIfAborted();
        const r = await once(onResponse, signal);
        out.requests += r.requests;
        out.sent += r.sent;
        out.latenciesMs.push(...r.latenciesMs);
      }
      return out;
    };
    return {
      serial: true,
      flow: (_url, _settings, amount, onResponse, signal) => rounds(amount, onResponse, signal),
      reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
    };
  },
  wrongAnswer: (command) => `warmup.command ${JSON.stringify(command)}: the pool is warmed by a command, not spoken to`,
};
