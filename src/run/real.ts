import { spawnSync } from 'node:child_process';
import { realClock } from '../clock.js';
import { hostInfo, softwareInfo } from '../host.js';
import { containerRecord } from '../proc/cgroup.js';
import { exeOf, foreignSharers } from '../proc/sharers.js';
import { anonNow, sharedAnonymous, ussNow } from '../proc/smaps.js';
import { sharedConnections } from '../proc/sockets.js';
import { listPids } from '../proc/tree.js';
import { loadAutocannon } from '../protocols/http/client.js';
import { realWire } from '../protocols/registry.js';
import { familyPackages } from '../servers/registry.js';
import { readBreakdown } from './breakdown.js';
import { findEscapees, stopEscapees } from './daemon.js';
import { prepareEarlyImports } from './early-imports.js';
import { prepareImportProbe } from './import-probe.js';
import { freeLoopbackPort, type LaunchedServer, launch } from './launch.js';
import { assertPortFree } from './port.js';
import { type RunDeps, realProc } from './seams.js';
import { killAllNow, stopServer } from './stop.js';
import { sampleTree } from './tree-sample.js';

/** The real world: processes, /proc, sockets and autocannon, the monotonic clock, systeminformation. */
export const realRunDeps: RunDeps = {
  clock: realClock,
  proc: realProc,
  wire: realWire,
  launcher: {
    freePort: freeLoopbackPort,
    assertPortFree,
    listPids,
    launch: (request) => {
      setImmediate(loadAutocannon); // autocannon loads while the server boots
      return launch(request);
    },
    stop: (server, family, boundMs) => stopServer(server as LaunchedServer, family, boundMs),
    signal: (server, signal) => process.kill(server.pid, signal),
    killAll: killAllNow,
    findEscapees: (argv, before, port) => findEscapees(argv, before, port),
    stopEscapees: (roots, family) => stopEscapees(roots, family),
    configTest: (argv, cwd) => {
      const r = spawnSync(argv[0] as string, argv.slice(1), { cwd, encoding: 'utf8', timeout: 10_000 });
      return r.error ? undefined : { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
    },
  },
  imports: { prepare: prepareImportProbe, early: prepareEarlyImports },
  memory: {
    sample: sampleTree,
    breakdown: readBreakdown,
    exe: exeOf,
    foreignSharers,
    sharedConnections: (roles) => sharedConnections(roles),
    container: (pid, tree) => containerRecord(pid, tree),
    ussOf: (pid) => ussNow(pid),
    anonOf: (pid) => anonNow(pid),
    sharedAnonOf: (pid) => sharedAnonymous(pid),
  },
  host: { info: hostInfo, software: (exe) => softwareInfo(exe, familyPackages()) },
};
