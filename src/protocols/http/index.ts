import { lanes } from '../lanes.js';
import type { WarmupProtocol } from '../protocol.js';
import { httpExchange } from './client.js';
import { probe } from './probe.js';

/**
 * HTTP, the default: GETs on loopback, one per connection. The warm-up sends them as a flow (the lanes,
 * through Node's client), the soak in bursts (autocannon); held requests (reach.ts) prove which worker
 * served when the app sends no pid header.
 */
export const httpProtocol: WarmupProtocol = {
  name: 'http',
  names: [],
  describe: 'http',
  schema: {},
  flags: {},
  watchesPort: () => true,
  client: { exchange: httpExchange, probe: (target, settings) => probe(target.port, settings.path) },
  load: (_settings, wire) => ({
    flow: lanes('http', wire).flow,
    batch: (url, settings, amount, onResponse, signal) => wire.burst(url, settings, amount, onResponse, signal),
    reach: (port, path, workerPids, signal) => wire.reach(port, path, workerPids, signal),
  }),
  wrongAnswer: (command, port) =>
    `--command ${JSON.stringify(command)}: port ${port} answers, but not in HTTP; point the warm-up at the server's HTTP port`,
};
