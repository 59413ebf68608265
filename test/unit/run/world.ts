import type { Snapshot } from '../../../src/memory.js';
import type { CpuState } from '../../../src/proc/stat.js';
import type { RunEvent } from '../../../src/results/events.js';
import type { ImportProcess } from '../../../src/results/imports.js';
import type { ProcessRecord } from '../../../src/results/types.js';
import type { LaunchRequest, RunDeps, ServerHandle, Wire } from '../../../src/run/seams.js';
import type { RunContext, RunOptions } from '../../../src/run/stages/context.js';
import type { TreeSample } from '../../../src/run/tree-sample.js';
import type { Scenario } from '../../../src/scenario/scenario.js';
import type { ServerFamily } from '../../../src/servers/family.js';
import { familyNamed } from '../../../src/servers/registry.js';
import { virtualClock } from './scripted.js';

const MiB = 1048576;

/** One scripted server: a master and its workers, each with a PSS. */
export interface FakeServer {
  handle: ServerHandle;
  request: LaunchRequest;
  port: number;
  workers: number[];
  /** Samples taken of this server's tree. */
  samples: number;
  stopped: boolean;
  /** Requests each worker served (the pid header's count). */
  served: Map<number, number>;
  /** Requests being answered now, and the most ever at once. */
  inFlight: number;
  maxInFlight: number;
  /** The script each request of a script protocol named. */
  scripts: string[];
}

export interface WorldScript {
  /** What the import probe read after a probed boot (`run --imports`): the last server launched with it. */
  imports?: (server: FakeServer) => ImportProcess[];
  /** Workers each server forks (default 2). */
  workers?: number;
  /** PSS of each worker, MiB, by the variant name (the command's last argument); default 10. */
  workerPssMiB?: Record<string, number>;
  /** Called before every sample of a server: may replace workers, abort, etc. */
  beforeSample?: (server: FakeServer, world: World) => void;
  /** Called before every request and command run the server gets. */
  beforeRequest?: (server: FakeServer, world: World) => void;
  /** The launched process exits 0 at once and pid 9000 holds the port in a session of its own. */
  daemonize?: boolean;
  /** Requests spread evenly over the workers (by default the first worker takes most, as a gunicorn worker often does). */
  evenLoad?: boolean;
  /** MiB a worker's PSS has grown after serving this many requests (a warming app, or a leak). */
  growth?: (served: number, variant: string) => number;
  /** The server closes every connection (default false: it keeps them, and the phase goes through the scripted autocannon). */
  closesConnections?: boolean;
  /** Requests per second a server answers in the throughput phase, by the variant name; default 1000. */
  requestsPerSecond?: Record<string, number>;
}

export type World = ReturnType<typeof makeWorld>;

/**
 * A whole host as the run sees it, scripted (as hyperfine's MockExecutor): servers are records, /proc
 * reads answer from them, the load generator answers with a worker's pid, time moves when slept.
 * `events` logs launches, stops, batches and samples in order.
 */
export function makeWorld(script: WorldScript = {}) {
  // Time passes as every task's sleeps come due: the lanes' requests run beside a stage that sleeps, as on
  // a real host, instead of the stage's whole duration passing first.
  const clock = virtualClock();
  const servers: FakeServer[] = [];
  const events: string[] = [];
  let nextPid = 1000;
  let nextPort = 40000;
  const byPid = (pid: number) => servers.find((s) => s.handle.pid === pid || s.workers.includes(pid));
  const byPort = (port: number) => servers.find((s) => s.port === port && !s.stopped);
  const name = (s: FakeServer) => s.request.argv.at(-1) ?? '';
  const record = (pid: number, ppid: number, pss: number): ProcessRecord => ({
    pid,
    ppid,
    role: ppid === 1 ? 'master' : 'worker',
    user: 'root',
    command: 'server',
    ussBytes: pss / 2,
    pssBytes: pss,
    rssBytes: pss * 2,
    swapBytes: 0,
    swapPssBytes: 0,
    pssAnonBytes: pss / 2,
    pssFileBytes: pss / 2,
    vssBytes: pss * 4,
  });
  const world = {
    clock,
    servers,
    events,
    /** Replaces a worker with a new pid (the server forked a new one after one died). */
    replaceWorker(server: FakeServer, index = 0): number {
      const pid = nextPid++;
      server.workers[index] = pid;
      events.push(`replace ${name(server)} → ${pid}`);
      return pid;
    },
    live: () => servers.filter((s) => !s.stopped),
    deps: undefined as unknown as RunDeps,
  };
  /** The server a request or a command reaches: the one on the port, or (a command) the last one launched. */
  const reached = (port: number | undefined) => (port === undefined ? servers.filter((x) => !x.stopped).at(-1) : byPort(port));
  /** A worker answers: the first takes most requests (as one gunicorn worker often does: top-ups are needed), every fourth goes round. */
  const answer = (server: FakeServer): number => {
    const served = [...server.served.values()].reduce((a, n) => a + n, 0);
    const pid = server.workers[script.evenLoad || served % 4 === 3 ? served % server.workers.length : 0] as number;
    server.served.set(pid, (server.served.get(pid) ?? 0) + 1);
    return pid;
  };
  const wire: Wire = {
    exchange: async (protocol, target, settings) => {
      const server = reached(target.port);
      if (!server) throw new Error('ECONNREFUSED');
      script.beforeRequest?.(server, world);
      events.push(`request ${protocol} ${name(server)}`);
      server.inFlight++;
      server.maxInFlight = Math.max(server.maxInFlight, server.inFlight);
      // Answered a turn later, so that the lanes above keep requests in flight together, as on a socket.
      await new Promise((r) => setImmediate(r));
      server.inFlight--;
      if (protocol !== 'http') server.scripts.push(settings.script ?? '');
      const pid = answer(server);
      return { status: 200, workerPid: settings.workerPidHeader ? String(pid) : undefined };
    },
    probe: async () => 'answered',
    closing: async (target) => {
      const server = reached(target.port);
      if (!server) throw new Error('ECONNREFUSED');
      script.beforeRequest?.(server, world);
      events.push(`closing ${name(server)}`);
      await new Promise((r) => setImmediate(r));
      answer(server);
      return { status: 200, workerPid: undefined };
    },
    keepsAlive: async (port) => {
      events.push(`keeps-alive? ${name(byPort(port) as FakeServer)}`);
      return !script.closesConnections;
    },
    sustain: async (url, _settings, o, signal) => {
      // The phase takes its time on the scripted clock; an abort during it cuts it.
      const server = reached(Number(new URL(url).port));
      const started = clock.now();
      if (server) events.push(`sustain ${name(server)} ${o.connections} ${o.durationMs}`);
      if (!signal?.aborted) await clock.sleep(o.durationMs);
      const durationMs = clock.now() - started;
      const rps = (server && script.requestsPerSecond?.[name(server)]) ?? 1000;
      const requests = Math.round((rps * durationMs) / 1000);
      return {
        client: 'autocannon',
        keepAlive: true,
        requests,
        sent: requests,
        errors: 0,
        timeouts: 0,
        statusCodes: { 200: requests },
        durationMs,
        latencyMs: { mean: 1, p50: 1, p90: 2, p99: 3, max: 4 },
        cut: signal?.aborted === true,
      };
    },
    reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
    body: async () => 'v1',
    command: async (run) => {
      const server = reached(undefined);
      events.push(`command ${run.argv.join(' ')}`);
      if (!server) return { stdout: '', durationMs: 1 };
      script.beforeRequest?.(server, world);
      // Each unit of work served by one worker: every worker's pid once, as a task queue's pool spreads them.
      const pids = server.workers.map((pid) => {
        server.served.set(pid, (server.served.get(pid) ?? 0) + 1);
        return pid;
      });
      return { stdout: `${pids.join('\n')}\n`, durationMs: 1 };
    },
  };
  const deps: RunDeps = {
    clock,
    imports: {
      prepare: () => {
        events.push('probe prepared');
        return {
          env: { MEMCOMPARE_IMPORTS_DIR: '/scripted' },
          read: () => {
            const probed = servers.filter((x) => x.request.env.MEMCOMPARE_IMPORTS_DIR === '/scripted').at(-1);
            return probed && script.imports ? script.imports(probed) : [];
          },
          remove: () => events.push('probe removed'),
        };
      },
      early: (modules) => {
        events.push(`early imports prepared: ${modules.join(', ')}`);
        return {
          env: { MEMCOMPARE_EARLY_MODULES: modules.join('\n') },
          outcome: () => ({ imported: [...modules], failed: [] }),
          remove: () => events.push('early imports removed'),
        };
      },
    },
    proc: {
      tree: (pid) => {
        const s = byPid(pid);
        return s && !s.stopped ? [s.handle.pid, ...s.workers] : [];
      },
      cpu: (pid): CpuState | undefined => {
        const s = byPid(pid);
        if (!s || s.stopped) return undefined;
        return { cpuNs: 0, groupTicks: 0, state: 'S', ppid: pid === s.handle.pid ? 1 : s.handle.pid };
      },
      listener: (port) => (byPort(port) ? { kind: 'ours' } : { kind: 'none' }),
    },
    wire,
    launcher: {
      freePort: async () => nextPort++,
      assertPortFree: () => {},
      listPids: () => [1],
      launch: async (request) => {
        const pid = nextPid;
        nextPid += 100;
        const port = Number(request.argv.find((a) => /^\d+$/.test(a)));
        const workers = Array.from({ length: script.workers ?? 2 }, (_, i) => pid + 1 + i);
        const exited = Boolean(script.daemonize);
        const handle: ServerHandle = {
          pid,
          argv: request.argv,
          knownPids: new Set([pid]),
          hasExited: () => exited,
          exitCode: () => (exited ? 0 : null),
          lastLines: () => [],
          output: () => '',
        };
        const server: FakeServer = {
          handle,
          request,
          port,
          workers,
          samples: 0,
          stopped: false,
          served: new Map(),
          inFlight: 0,
          maxInFlight: 0,
          scripts: [],
        };
        if (script.daemonize) server.stopped = true;
        servers.push(server);
        events.push(`launch ${name(server)} in ${request.cwd}`);
        return handle;
      },
      stop: async (handle, _adapter, boundMs) => {
        const s = servers.find((x) => x.handle === handle);
        if (s && !s.stopped) {
          s.stopped = true;
          events.push(`stop ${name(s)}${boundMs === undefined ? '' : ` within ${boundMs} ms`}`);
        }
        return { forced: false, ms: 1 };
      },
      // A reload signal: the server replaces every worker (as gunicorn's HUP does).
      signal: (handle, signal) => {
        events.push(`signal ${signal} ${handle.pid}`);
        const s = servers.find((x) => x.handle === handle);
        if (s) for (let i = 0; i < s.workers.length; i++) world.replaceWorker(s, i);
      },
      killAll: () => {
        for (const s of servers.filter((x) => !x.stopped)) {
          s.stopped = true;
          events.push(`kill ${name(s)}`);
        }
      },
      findEscapees: async () => (script.daemonize ? [9000] : []),
      stopEscapees: async (roots) => {
        events.push(`stop escapees ${roots.join(',')}`);
        return [...roots, 9001];
      },
    },
    memory: {
      sample: (handle): TreeSample => {
        const s = servers.find((x) => x.handle === handle) as FakeServer;
        script.beforeSample?.(s, world);
        s.samples++;
        events.push(`sample ${name(s)}`);
        const pss = (script.workerPssMiB?.[name(s)] ?? 10) * MiB;
        const grown = (w: number) => (script.growth?.(s.served.get(w) ?? 0, name(s)) ?? 0) * MiB;
        const processes = [record(s.handle.pid, 1, 20 * MiB), ...s.workers.map((w) => record(w, s.handle.pid, pss + grown(w)))];
        const total = processes.reduce((a, p) => a + p.pssBytes, 0);
        const snapshot = {
          totals: { processes: processes.length, pssBytes: total, ussBytes: total / 2, rssBytes: total * 2 },
          // What the soak reads of each process: its shared part (bytes), from the rollup's fields.
          processes: processes.map((p) => ({ ...p, fields: { Shared_Clean: p.rssBytes - p.ussBytes, Shared_Dirty: 0 } })),
          skipped: [],
        } as unknown as Snapshot;
        return { snapshot, processes, workers: s.workers.length };
      },
      breakdown: () => ({ readMs: 0, groups: [], top: [] }),
      exe: () => undefined,
      foreignSharers: () => undefined,
    },
    host: {
      info: async () => ({ os: 'Scripted 1', kernel: '6.1.0', cpu: 'cpu', cores: 2, memoryBytes: 1, node: 'v20', server: 'srv 1' }),
      software: async () => undefined,
    },
  };
  world.deps = deps;
  return world;
}

/** A scenario of `variants` named variants; each command ends with the variant's name. */
export function scenarioOf(variants: string[], runs = 3, workers = 2): Scenario {
  return {
    name: 'scripted',
    description: 'scripted',
    server: 'generic',
    cwd: '/srv/app',
    command: ['srv', '{port}'],
    workers,
    variants: variants.map((name) => ({ name, args: [name], env: {} })),
    warmup: { requests: 4, connections: 2, path: '/', workerPidHeader: 'X-Worker-Pid' },
    settle: { intervalMs: 50, tolerancePercent: 0.1, stableSamples: 3, timeoutMs: 20_000 },
    runs,
    bootTimeoutMs: 10_000,
  };
}

/** One run's context on a scripted world, as the scheduler makes it; `events` collects what the stages emit. */
export function contextOf(world: World, scenario: Scenario, options: RunOptions = {}): RunContext & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  const variant = scenario.variants[0] as Scenario['variants'][number];
  return {
    scenario,
    family: familyNamed(scenario.server) as ServerFamily,
    variant,
    index: 1,
    options,
    deps: world.deps,
    tag: `[${variant.name} 1/1]`,
    services: {},
    emit: (e) => events.push(e),
    previousGone: Promise.resolve(),
    previousStopping: () => false,
    events,
  };
}
