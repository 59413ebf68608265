import { lanes, sustainLanes } from '../lanes.js';
import type { WarmupProtocol, Wire } from '../protocol.js';
import { httpExchange, mixOf } from './client.js';
import { probe } from './probe.js';

/**
 * HTTP, the default: GETs on loopback. The warm-up and the soak send them through the lanes (Node's client,
 * one request per connection that says `Connection: close`, read to its end: answers that end only at the
 * server's close are counted, which autocannon never does; a soak through it read 0 requests on such an app).
 * The throughput phase is a closed loop (below). Held requests (reach.ts) prove which worker served when the
 * app sends no pid header.
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
    // The answers seen so far say whether autocannon can count them: the warm-up's flow comes before the phase.
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
      reach: (port, path, workerPids, signal) => wire.reach(port, path, workerPids, signal),
      // autocannon where the server keeps connections and says how long its answers are; a connection per
      // request otherwise (autocannon never counts a close-delimited answer, and against a server that closes
      // every connection, as Python's sync workers do, its latencies were seconds where hey's were 7-9 ms).
      sustain: async (url, settings, o, signal) => {
        const keeps = !closeDelimited && !settings.socket && (await wire.keepsAlive(Number(new URL(url).port), settings.path));
        if (keeps) return wire.sustain(url, settings, o, signal);
        const target = { port: Number(new URL(url).port) };
        // The mix's paths in turn (a request that says it closes is a GET of its path).
        const mix = mixOf(settings);
        let turn = 0;
        return sustainLanes(o, (s) => wire.closing(target, (mix[turn++ % mix.length] as { path: string }).path, s), signal);
      },
    };
  },
  wrongAnswer: (command, port) =>
    `--command ${JSON.stringify(command)}: port ${port} answers, but not in HTTP; point the warm-up at the server's HTTP port`,
};
