import { flagValue, loopbackPort, readConfig } from './config.js';
import { directChildren, type ServerFamily } from './family.js';

/** Apache's directives as it reads them: the -f configuration, then -C/-c on the command line. */
function directives(argv: readonly string[], cwd: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < argv.length; i++) if ((argv[i] === '-C' || argv[i] === '-c') && argv[i + 1]) lines.push(argv[i + 1] as string);
  const file = readConfig(flagValue(argv, ['-f'], []), cwd);
  if (file) lines.unshift(...file.split('\n'));
  return lines;
}

/**
 * Apache httpd with the prefork MPM, run in the foreground (-DFOREGROUND): the parent and its
 * children. TERM stops it at once, WINCH gracefully; USR1 is the graceful restart. `apache2 -t`
 * checks its configuration.
 */
export const apache: ServerFamily = {
  name: 'apache',
  names: ['apache', 'apache2', 'httpd'],
  recognise: (argv) => /^(apache2|httpd)$/.test(argv[0]?.split('/').pop() ?? ''),
  /** A fixed pool has StartServers children (with Min/MaxSpareServers around it); undefined without one: detect. */
  workersFromCommand(argv, _env, cwd) {
    let start: number | undefined;
    for (const d of directives(argv, cwd)) {
      const m = /^\s*StartServers\s+(\d+)\s*$/i.exec(d);
      if (m) start = Number(m[1]);
    }
    return start;
  },
  roleOf: directChildren,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 10_000,
  // WINCH lets each child finish its request, bounded by GracefulShutdownTimeout (0: unbounded).
  gracefulStop: { signal: 'SIGWINCH', boundMs: 10_000 },
  reloadSignal: 'SIGUSR1',
  log: {},
  /** `Listen [ADDRESS:]PORT`, the first one it reads. */
  portFromCommand(argv, cwd) {
    for (const d of directives(argv, cwd)) {
      const m = /^\s*Listen\s+(\S+)/i.exec(d);
      if (m) return loopbackPort(m[1]);
    }
    return undefined;
  },
  /** `ErrorLog /path`, the last one it reads (a pipe or syslog is not a file to quote). */
  errorLogFromCommand(argv, cwd) {
    let log: string | undefined;
    for (const d of directives(argv, cwd)) {
      const m = /^\s*ErrorLog\s+"?([^"\s]+)"?\s*$/i.exec(d);
      if (m) log = m[1];
    }
    return log?.startsWith('/') ? log : undefined;
  },
  configTestCommand: (argv) => [...argv.filter((a) => a !== '-DFOREGROUND'), '-t'],
  versionCommand: ['apache2', '-v'],
  packages: {},
  workerSetting: {
    text: (n) => `MaxRequestWorkers ${n} (with ServerLimit ${n})`,
    args: (n) => ['-C', `MaxRequestWorkers ${n}`, '-C', `ServerLimit ${n}`],
  },
  recycling: { text: (n) => `MaxConnectionsPerChild ${n}`, args: (n) => ['-C', `MaxConnectionsPerChild ${n}`] },
  none: {
    importProbe: 'its modules are C, loaded by the parent; mod_php compiles per request: there is no import to attribute',
    connectAfterFork: 'a module opens its connections in its child_init hook; the parent runs no application code',
    memoryRecycling: 'Apache has no memory threshold for a child: MaxConnectionsPerChild only',
    exitRemedy: "not measured: a prefork child's exit hook is Apache's, not the app's",
    socketFromCommand: 'Apache listens on TCP',
    poolNotFixed: 'Min/MaxSpareServers are not read: a pool whose size moves shows as a worker-count warning',
    protocol: 'speaks HTTP',
  },
};
