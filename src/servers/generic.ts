import { directChildren, PYTHON_IMPORT_PROBE, type ServerFamily } from './family.js';

/** Any prefork server memcompare has no module for: workers are the launched process's children; INT stops it. */
export const generic: ServerFamily = {
  name: 'generic',
  names: ['generic'],
  recognise: () => true,
  workersFromCommand: () => undefined,
  roleOf: directChildren,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 5000,
  gracefulStop: { signal: 'SIGTERM', boundMs: 5000 },
  reloadSignal: 'SIGHUP',
  log: {},
  versionCommand: [],
  packages: {},
  workerSetting: { text: (n) => `${n} workers`, noArgs: 'a server memcompare does not know takes its count its own way' },
  importProbe: {
    method: `${PYTHON_IMPORT_PROBE}; a server that is not Python records nothing`,
  },
  none: {
    connectAfterFork: 'its post-fork hook is not known: the warning gives the general remedy',
    errorLogFromCommand: 'a server memcompare knows nothing of: its output is all there is',
    memoryRecycling: 'its memory threshold is not known',
    exitRemedy: 'the server is not known: no hook to name',
    portFromCommand: 'its flags are not known: give {port} or --port',
    socketFromCommand: 'its configuration is not known',
    configTestCommand: 'its configuration is not known',
    protocol: 'speaks HTTP unless the scenario says warmup.protocol',
    recycling: 'its recycling setting is not known',
    poolNotFixed: 'its pool manager is not known',
  },
};
