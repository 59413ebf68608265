import type { WarmupSettings } from '../results/types.js';
import { commandProtocol, runCommand } from './command.js';
import { FASTCGI_FLAGS, fastcgiProtocol } from './fastcgi/index.js';
import { autocannonSustain, closingExchange, keepsAlive } from './http/client.js';
import { httpProtocol } from './http/index.js';
import { fetchBody } from './http/probe.js';
import { reachEveryWorker } from './http/reach.js';
import type { AdhocContext, WarmupProtocol, Wire } from './protocol.js';

/** Every warm-up protocol, one module each (see CONTRIBUTING, "Adding a warm-up protocol"). */
export const PROTOCOLS: readonly WarmupProtocol[] = [httpProtocol, fastcgiProtocol, commandProtocol];

/** The protocols a scenario names in `warmup.protocol` (the command warm-up is selected by `warmup.command`). */
export const protocolNames = (): string[] => PROTOCOLS.filter((p) => p !== commandProtocol).map((p) => p.name);

/** The protocol of that name, or undefined. */
export const protocolNamed = (name: string | undefined): WarmupProtocol | undefined => PROTOCOLS.find((p) => p.name === name);

/** The protocol a warm-up speaks: a command's, the one it names, or HTTP. */
export function protocolOf(settings: WarmupSettings): WarmupProtocol {
  if (settings.command) return commandProtocol;
  return protocolNamed(settings.protocol) ?? httpProtocol;
}

/** Every protocol's flags, for the commands that build a scenario from --command. */
export const PROTOCOL_FLAGS = { ...FASTCGI_FLAGS } as const;

/** Every protocol's piece of the scenario schema's `warmup` object, in registry order. */
export const protocolSchema = (): Record<string, object> => Object.assign({}, ...PROTOCOLS.map((p) => p.schema));

const client = (protocol: string) => {
  const c = protocolNamed(protocol)?.client;
  if (!c) throw new Error(`no client for the ${protocol} protocol`);
  return c;
};

/** The real wire: sockets on loopback, autocannon, and processes. */
export const realWire: Wire = {
  exchange: (protocol, target, settings, signal) => client(protocol).exchange(target, settings, signal),
  probe: (protocol, target, settings) => client(protocol).probe(target, settings),
  sustain: autocannonSustain,
  keepsAlive,
  closing: closingExchange,
  reach: reachEveryWorker,
  body: (port, path) => fetchBody(port, path),
  command: runCommand,
};

/**
 * The warm-up settings an ad-hoc scenario's flags ask for: the first protocol whose flag was given, or that
 * the family's server speaks (`speaks`, a protocol's name); HTTP's defaults (nothing to add) otherwise.
 */
export function protocolFromFlags(
  values: Record<string, unknown>,
  o: Omit<AdhocContext, 'speaks'> & { speaks: string | undefined },
): Partial<WarmupSettings> {
  for (const p of PROTOCOLS) {
    const settings = p.fromFlags?.(values, { ...o, speaks: o.speaks === p.name });
    if (settings) return settings;
  }
  return {};
}
