import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { MemcompareError } from '../errors.js';
import { expandCommand } from '../scenario/argv.js';
import type { ServiceSpec } from '../scenario/scenario.js';
import { FALLBACK_FAMILY } from '../servers/registry.js';
import type { RunDeps, ServerHandle } from './seams.js';

/** A companion service (a broker, a database) running for the whole scenario, never measured. */
export interface RunningService {
  name: string;
  port: number;
  server: ServerHandle;
}

/** True once a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(500, () => s.destroy());
    s.once('connect', () => {
      s.destroy();
      resolveAccepts(true);
    });
    s.once('error', () => resolveAccepts(false));
    s.once('close', () => resolveAccepts(false));
  });
}

const lastLines = (s: ServerHandle) =>
  s
    .lastLines(8)
    .map((l) => `  | ${l}`)
    .join('\n') || '  | (no output)';

/**
 * Starts each service on a free loopback port ({port} in its command), in a process group of its own
 * with the same guard as a server (it dies with memcompare however memcompare dies), and waits until
 * it is ready: its port accepts connections (the default), a file exists, or a command succeeds.
 * A service that exits or is not ready in time fails the run (exit 3) quoting its last output.
 */
export async function startServices(
  specs: readonly ServiceSpec[],
  cwd: string,
  deps: RunDeps,
  signal?: AbortSignal,
): Promise<RunningService[]> {
  const running: RunningService[] = [];
  try {
    for (const spec of specs) {
      const port = await deps.launcher.freePort();
      const argv = expandCommand(spec.command, { port, workers: 1 });
      const server = await deps.launcher.launch({ argv, cwd: spec.cwd ?? cwd, env: {} });
      running.push({ name: spec.name, port, server });
      const deadline = deps.clock.now() + spec.timeoutMs;
      while (true) {
        signal?.throwIfAborted();
        if (server.hasExited()) {
          throw new MemcompareError(
            'SERVER_DIED',
            `services.${spec.name} ${JSON.stringify(argv.join(' '))}: exited before it was ready; its last output is below`,
            {
              detail: lastLines(server),
            },
          );
        }
        const ready = spec.ready?.file
          ? existsSync(spec.ready.file)
          : spec.ready?.command
            ? deps.launcher.configTest?.(expandCommand(spec.ready.command, { port, workers: 1 }), spec.cwd ?? cwd)?.ok === true
            : await accepts(port);
        if (ready) break;
        if (deps.clock.now() > deadline) {
          throw new MemcompareError(
            'SERVER_NOT_READY',
            `services.${spec.name} ${JSON.stringify(argv.join(' '))}: not ready after ${spec.timeoutMs / 1000} s (${spec.ready?.file ? `no file ${spec.ready.file}` : spec.ready?.command ? 'its ready command never succeeded' : `port ${port} never accepted a connection`}); its last output is below`,
            { detail: lastLines(server) },
          );
        }
        await deps.clock.sleep(50, signal);
      }
    }
    return running;
  } catch (error) {
    await stopServices(running, deps);
    throw error;
  }
}

/** Throws when a service has gone away (a broker that died mid-run): nothing measured after it is sound. */
export function checkServices(services: readonly RunningService[]): void {
  for (const s of services) {
    if (s.server.hasExited()) {
      throw new MemcompareError('SERVER_DIED', `services.${s.name}: exited during the run; its last output is below`, {
        detail: lastLines(s.server),
      });
    }
  }
}

/** Stops the services, last, as a server of no known family is stopped (INT, then SIGKILL after 5 s). */
export async function stopServices(services: readonly RunningService[], deps: RunDeps): Promise<void> {
  await Promise.all(services.map((s) => deps.launcher.stop(s.server, FALLBACK_FAMILY)));
}
