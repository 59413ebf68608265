import { count, flagValue, lastMatch, loopbackPort, readConfig } from './config.js';
import { directChildren, PYTHON_IMPORT_PROBE, type ServerFamily } from './family.js';

/**
 * uWSGI with --master: loads the app in the master by default (preloading); --lazy-apps loads it
 * per worker. TERM makes the master reload (brutally) unless --die-on-term: INT stops it, QUIT is
 * the graceful stop. `--max-requests` recycles a worker ("...The work of process N is done").
 */
export const uwsgi: ServerFamily = {
  name: 'uwsgi',
  names: ['uwsgi'],
  recognise: (argv) => (argv[0]?.split('/').pop() ?? '').startsWith('uwsgi') || argv.some((a) => /(^|\/)uwsgi(_python3)?$/.test(a)),
  /** -p/--processes/--workers, else 1; a configuration file (--ini, --yaml, …) may set it: detect instead. */
  workersFromCommand(argv) {
    const v = flagValue(argv, ['-p'], ['--processes', '--workers']);
    if (v !== undefined) return count(v);
    if (argv.some((a) => /^--(ini|yaml|yml|json|xml|config)\b/.test(a) || /\.(ini|ya?ml|json|xml)$/.test(a))) return undefined;
    return 1;
  },
  roleOf: directChildren,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 10_000,
  gracefulStop: { signal: 'SIGQUIT', boundMs: 60_000 },
  reloadSignal: 'SIGHUP',
  log: { recycled: /\.\.\.The work of process (?<pid>\d+) is done/g },
  /** --http-socket/--http/--socket on the command line, else the same keys in its --ini file. */
  portFromCommand(argv, cwd) {
    const flag = flagValue(argv, ['-s'], ['--http-socket', '--http', '--socket', '--uwsgi-socket']);
    if (flag !== undefined) return loopbackPort(flag);
    const ini = readConfig(flagValue(argv, [], ['--ini']) ?? argv.find((a) => a.endsWith('.ini')), cwd);
    return loopbackPort(lastMatch(ini, /^\s*(?:http-socket|http|socket|uwsgi-socket)\s*=\s*(\S+)/));
  },
  versionCommand: ['uwsgi', '--version'],
  packages: { python: ['uWSGI'] },
  workerSetting: { text: (n) => `processes = ${n}`, args: (n) => ['--processes', String(n)] },
  // uWSGI checks --max-requests and --reload-on-rss after each request, but only in a worker that has
  // lived --min-worker-lifetime seconds (10 by default): a worker that reaches its setting sooner goes on
  // growing (seen: 545 requests served under --max-requests 100, 102 MB under --reload-on-rss 44). The
  // advice sets it to 0, so that the setting is what recycles.
  recycling: {
    text: (n) => `--max-requests ${n} --min-worker-lifetime 0`,
    args: (n) => ['--max-requests', String(n), '--min-worker-lifetime', '0'],
  },
  memoryRecycling: {
    // MB (MiB), compared with the worker's RSS after each request; a worker above it finishes that request and is replaced.
    text: (b) => `--reload-on-rss ${Math.floor(b / 1048576)} --min-worker-lifetime 0`,
    args: (b) => ['--reload-on-rss', String(Math.floor(b / 1048576)), '--min-worker-lifetime', '0'],
    warning:
      'uWSGI checks it only in a worker older than --min-worker-lifetime (10 s by default; 0 here): keep it at 0, or a young worker grows past the threshold unchecked',
  },
  connectAfterFork: "uWSGI's --lazy-apps (each worker loads the app), or a function decorated @uwsgidecorators.postfork",
  importProbe: {
    method: `${PYTHON_IMPORT_PROBE}; uWSGI forks without Python's fork hooks, so a worker's imports are told by the process that wrote them`,
    preloaded: (argv) => !argv.some((a) => /^--lazy(-apps)?(=(true|1|yes))?$/.test(a)),
  },
  none: {
    errorLogFromCommand: 'uWSGI prints its log on its output unless --logto names a file (not read)',
    exitRemedy:
      "not measured: uWSGI's --skip-atexit-teardown (no Py_Finalize at a worker's exit) may do what os._exit in a worker-exit hook does",
    socketFromCommand: 'a Unix socket speaks the uwsgi protocol, not HTTP; measure it on --http-socket',
    configTestCommand: 'uWSGI has no configuration test that does not start the app',
    protocol: 'measured on --http-socket, HTTP',
    poolNotFixed: 'the cheaper subsystem is not followed; the pool is --processes',
  },
};
