import { resolve } from 'node:path';
import { badArgument } from '../errors.js';
import { protocolFromFlags } from '../protocols/registry.js';
import type { WarmupSettings } from '../results/types.js';
import { familyForCommand, familyNamed, familyNames, type ServerFamily } from '../servers/registry.js';
import { splitCommand } from './argv.js';
import { checkFlag, DEFAULT_THROUGHPUT, LIMITS } from './limits.js';
import { DEFAULT_SETTLE, DEFAULT_WARMUP, type Scenario } from './scenario.js';

/** The flags an ad-hoc scenario is built from (`run`'s, and the protocols' own). */
export interface AdhocOptions {
  command: string[];
  name: string[];
  cwd?: string | undefined;
  workers?: number | undefined;
  server?: string | undefined;
  port?: number | undefined;
}

/** A scenario made of --command flags, hyperfine-style. */
export function adhocScenario(o: AdhocOptions): { scenario: Scenario; family: ServerFamily } {
  if (o.name.length > 0 && o.name.length !== o.command.length) {
    throw badArgument('--name', o.name, `give one --name per --command (${o.command.length} commands, ${o.name.length} names)`);
  }
  checkFlag('--workers', o.workers, LIMITS.workers);
  const workers = o.workers ?? LIMITS.workers.default;
  const cwd = resolve(o.cwd ?? process.cwd());
  let configuredPort: number | undefined;
  const argvs = o.command.map((c) => {
    const argv = splitCommand(c);
    if (argv.length === 0) throw badArgument('--command', c, 'name the server program and its arguments');
    // A port fixed in the server's flags or its own configuration file: read it there.
    const its = familyForCommand(argv);
    const fromConfig = argv.some((a) => a.includes('{port}')) ? undefined : its.portFromCommand?.(argv, cwd);
    if (fromConfig !== undefined) configuredPort ??= fromConfig;
    const onSocket = its.socketFromCommand?.(argv, cwd) !== undefined;
    if (o.port === undefined && fromConfig === undefined && !onSocket && !argv.some((a) => a.includes('{port}'))) {
      throw badArgument(
        '--command',
        c,
        'add {port} where the server takes its port (e.g. -b 127.0.0.1:{port}) so memcompare can pick a free loopback port, or pass --port',
      );
    }
    return argv;
  });
  let family = familyForCommand(argvs[0] ?? []);
  if (o.server !== undefined) {
    const a = familyNamed(o.server);
    if (!a) throw badArgument('--server', o.server, `use one of: ${familyNames().join(', ')}`);
    family = a;
  }
  const seen = new Set<string>();
  const variants = argvs.map((argv, i) => {
    const name = o.name[i] ?? `command${i + 1}`;
    if (seen.has(name)) throw badArgument('--name', name, 'names must differ');
    seen.add(name);
    // Without --server each command's family is its own (one server against another).
    const own = o.server === undefined ? familyForCommand(argv) : family;
    return { name, args: [], env: {}, command: argv, ...(own !== family ? { server: own.name } : {}) };
  });
  const port = o.port ?? configuredPort;
  // The warm-up's protocol: one whose flag was given, or the one the family's server speaks.
  const spoken = protocolFromFlags(o as unknown as Record<string, unknown>, {
    cwd,
    family: family.name,
    speaks: family.protocol,
    command: o.command[0] ?? '',
    socket: () => (argvs[0] ? family.socketFromCommand?.(argvs[0], cwd) : undefined),
  });
  return {
    family,
    scenario: {
      name: 'adhoc',
      description: `Ad-hoc comparison of ${variants.length} command${variants.length === 1 ? '' : 's'}`,
      server: family.name,
      cwd,
      command: argvs[0] ?? [],
      workers,
      // No --workers and no {workers}: each command's own count (-w 3), or detection.
      detectWorkers: o.workers === undefined && !argvs.some((a) => a.some((x) => x.includes('{workers}'))),
      variants,
      warmup: { ...DEFAULT_WARMUP, until: 'steady', ...spoken } as WarmupSettings,
      settle: { ...DEFAULT_SETTLE },
      // Every run ends with its throughput phase, as a scenario's does (--no-throughput turns it off).
      throughput: { ...DEFAULT_THROUGHPUT },
      runs: LIMITS.runs.default,
      bootTimeoutMs: LIMITS.bootTimeoutSeconds.default * 1000,
      ...(port === undefined ? {} : { port }),
    },
  };
}
