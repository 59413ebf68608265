import { MemcompareError } from '../../errors.js';
import { daemonizedError } from '../daemon.js';
import { type ReadyRecord, waitReady } from '../ready.js';
import type { Booted, RunContext } from './context.js';

/**
 * Stage 2, ready. A server that daemonized is caught here: its launched process exited 0 (or lost
 * the port to a process outside its tree) and its master went on in a session of its own; it is
 * stopped and reported (the port was free before the launch). A server that died at boot and has a
 * configuration test (its family's configTestCommand): a failing test is bad input.
 */
export async function readyStage(ctx: RunContext, b: Booted): Promise<ReadyRecord> {
  const { scenario, family, deps } = ctx;
  const target = { port: b.port, ...(b.warmup.socket ? { socket: b.warmup.socket } : {}) };
  try {
    const ready = await waitReady(
      b.server,
      family,
      {
        port: b.port,
        path: scenario.warmup.path,
        workers: b.expected.count,
        timeoutMs: scenario.bootTimeoutMs,
        // A pool warmed by a command, or one listening on a Unix socket: no loopback port to watch.
        ...(b.protocol.watchesPort(b.warmup) ? {} : { noPort: true }),
        wrongAnswer: b.protocol.wrongAnswer(b.argv.join(' '), b.port),
      },
      ctx.options.signal,
      { proc: deps.proc, clock: deps.clock, probe: () => deps.wire.probe(b.protocol.name, target, b.warmup) },
    );
    ctx.emit({ stage: 'ready', tag: ctx.tag, bootMs: ready.bootMs, workers: ready.workerPids.length, detected: ready.detected });
    return ready;
  } catch (error) {
    const code = error instanceof MemcompareError ? error.code : undefined;
    const exitedOk = b.server.exitCode() === 0 || code === 'PORT_TAKEN';
    if (exitedOk && (code === 'SERVER_DIED' || code === 'PORT_TAKEN')) {
      const escaped = await deps.launcher.findEscapees(b.argv, b.before, b.port);
      if (escaped.length > 0) throw daemonizedError(b.argv, await deps.launcher.stopEscapees(escaped, family));
    }
    if (code === 'SERVER_DIED' && family.configTestCommand) {
      const testArgv = family.configTestCommand(b.argv);
      const test = deps.launcher.configTest?.(testArgv, ctx.variant.cwd ?? scenario.cwd);
      if (test && !test.ok) {
        const lines = test.output.split('\n').filter((l) => l.trim() !== '');
        throw new MemcompareError(
          'BAD_ARGUMENT',
          `--command ${JSON.stringify(b.argv.join(' '))}: the server's configuration fails its own check (${testArgv.slice(0, 1).join(' ')} … ${testArgv.at(-1)}): ${lines.at(-2) ?? lines.at(-1) ?? 'no output'}; fix the configuration`,
          {
            detail: lines
              .slice(-8)
              .map((l) => `  | ${l}`)
              .join('\n'),
          },
        );
      }
    }
    throw error;
  }
}
