import { lanes, sustainLanes } from '../lanes.js';
import type { WarmupProtocol, Wire } from '../protocol.js';
import { httpExchange } from './client.js';
import { probe } from './probe.js';

/**
 * HTTP, the default: GETs on loopback, one per connection. The warm-up sends them as a flow (the lanes,
 * through Node's client), the throughput phase as a closed loop (below), the soak in bursts: through autocannon, unless the app's answers end only when
 * the server closes the connection (no Content-Length, not chunked), which autocannon never counts as
 * answered (a soak on such an app read 0 requests): then through the lanes, which do. Held
 * requests (reach.ts) prove which worker served when the app sends no pid header.
 */
export const httpProtocol: WarmupProtocol = {
  name: 'http',
  names: [],
  describe: 'http',
  schema: {},
  flags: {},
  watchesPort: () => true,
  client: { exchange: httpExchange, probe: (target, settings) => probe(target.port, settings.path) },
  load(_settings, wire) {
    let closeDelimited = false;
    // The answers seen so far say which client can count them: the warm-up's flow comes before any burst.
    const noting: Wire = {
      ...wire,
      exchange: async (protocol, target, settings, signal) => {
        const answer = await wire.exchange(protocol, target, settings, signal);
        if (answer.closeDelimited) closeDelimited = true;
        return answer;
      },
    };
    const own = lanes('http', noting);
    return {
      flow: own.flow,
      batch: (url, settings, amount, onResponse, signal) =>
        closeDelimited ? own.batch(url, settings, amount, onResponse, signal) : wire.burst(url, settings, amount, onResponse, signal),
      reach: (port, path, workerPids, signal) => wire.reach(port, path, workerPids, signal),
      batchClient: () => (closeDelimited ? 'lanes' : 'autocannon'),
      // autocannon where the server keeps connections and says how long its answers are; a connection per
      // request otherwise (autocannon never counts a close-delimited answer, and against a server that closes
      // every connection, as Python's sync workers do, its latencies were seconds where hey's were 7-9 ms).
      sustain: async (url, settings, o, signal) => {
        const keeps = !closeDelimited && !settings.socket && (await wire.keepsAlive(Number(new URL(url).port), settings.path));
        if (keeps) return wire.sustain(url, settings, o, signal);
        const target = { port: Number(new URL(url).port) };
        return sustainLanes(o, (s) => wire.closing(target, settings.path, s), signal);
      },
    };
  },
  wrongAnswer: (command, port) =>
    `--command ${JSON.stringify(command)}: port ${port} answers, but not in HTTP; point the warm-up at the server's HTTP port`,
};
