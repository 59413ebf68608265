import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { badArgument } from '../../errors.js';
import { lanes } from '../lanes.js';
import type { ProtocolFlag, WarmupProtocol } from '../protocol.js';
import { fastcgiExchange, fastcgiProbe } from './client.js';

/** Its flag: the script the pool runs (SCRIPT_FILENAME). */
export const FASTCGI_FLAGS = {
  'fastcgi-script': {
    type: 'string',
    nargs: 1,
    describe:
      "Warm up over FastCGI (a FastCGI pool without a web server in front): the script to run, SCRIPT_FILENAME (the pool's listen and size are read from its -y configuration)",
  },
} as const satisfies Record<string, ProtocolFlag>;

/**
 * FastCGI: a pool spoken to without a web server in front (this folder's client). Each request runs one
 * script (SCRIPT_FILENAME) on a connection of its own; a pool listening on a Unix socket is reached there.
 */
export const fastcgiProtocol: WarmupProtocol = {
  name: 'fastcgi',
  names: ['fastcgi'],
  describe: 'fastcgi (the default for a family whose server speaks it)',
  schema: {
    script: {
      type: 'string',
      minLength: 1,
      description: 'FastCGI: the script the pool runs (SCRIPT_FILENAME), relative to the app folder.',
    },
    socket: {
      type: 'string',
      minLength: 1,
      description:
        "FastCGI over a Unix socket: the path of the pool's listen socket (absolute); readiness then waits for the workers alone.",
    },
  },
  flags: FASTCGI_FLAGS,
  fromFlags(values, o) {
    const given = values.fastcgiScript as string | undefined;
    if (given === undefined && !o.speaks) return undefined;
    if (given === undefined)
      throw badArgument(
        '--command',
        o.command,
        `${o.family} speaks FastCGI: add --fastcgi-script FILE, the script it runs (e.g. --fastcgi-script /srv/app/index.php)`,
      );
    const script = resolve(o.cwd, given);
    if (!existsSync(script)) throw badArgument('--fastcgi-script', given, `no such file (${script}); name the app's entry script`);
    const socket = o.socket();
    return { protocol: 'fastcgi', script, path: '/', ...(socket ? { socket } : {}) };
  },
  check(warmup, cwd, fail) {
    const given = warmup.script;
    const script =
      given ??
      fail(
        'warmup.script',
        undefined,
        `a ${warmup.protocol} warm-up needs the script to run (SCRIPT_FILENAME), relative to the app folder`,
      );
    warmup.script = resolve(cwd, script);
    if (warmup.socket !== undefined) warmup.socket = resolve(cwd, warmup.socket);
    if (!existsSync(warmup.script)) fail('warmup.script', given, `no such file (${warmup.script}); name the app's entry script`);
  },
  // A pool on a Unix socket has no loopback port to watch: readiness waits for its workers alone.
  watchesPort: (settings) => settings.socket === undefined,
  client: { exchange: fastcgiExchange, probe: fastcgiProbe },
  load: (_settings, wire) => ({
    ...lanes('fastcgi', wire),
    // FastCGI has no held-request trick: without a pid header the warm-up falls back to CPU time.
    reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
  }),
  wrongAnswer: (command, port) =>
    `--command ${JSON.stringify(command)}: port ${port} answers, but not in FastCGI; point the warm-up at the pool's listen address, or drop --fastcgi-script for an HTTP server`,
  // A pool answers 404 to every request when it cannot find SCRIPT_FILENAME ("Primary script unknown").
  refused: (settings, requests, codes) =>
    requests > 0 && codes['404'] === requests
      ? `warmup.script ${JSON.stringify(settings.script ?? '')}: the pool answered 404 to every request (Primary script unknown); name a script the pool's user can read, by its absolute path as the pool sees it`
      : undefined,
};
