import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { commandProtocol } from '../../../src/protocols/command.js';
import { fastcgiProtocol } from '../../../src/protocols/fastcgi/index.js';
import { httpProtocol } from '../../../src/protocols/http/index.js';
import { pump } from '../../../src/protocols/lanes.js';
import { type Answer, NoAnswerError, type WarmupProtocol, type Wire } from '../../../src/protocols/protocol.js';
import { PROTOCOLS, protocolOf } from '../../../src/protocols/registry.js';
import type { WarmupSettings } from '../../../src/results/types.js';
import { FAMILIES } from '../../../src/servers/registry.js';
import { ROOT } from '../../helpers.js';

const SRC = join(ROOT, 'src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/** Every file of src/ naming a protocol's word outside its module(s), the registry and the families that speak it. */
export function protocolLeaks(texts: Map<string, string>, protocols: readonly WarmupProtocol[]): string[] {
  const found: string[] = [];
  for (const p of protocols) {
    const own = (path: string) =>
      path.startsWith(`protocols/${p.name}/`) ||
      path === `protocols/${p.name}.ts` ||
      path === 'protocols/registry.ts' ||
      FAMILIES.some((f) => f.protocol === p.name && path === `servers/${f.name}.ts`);
    for (const name of p.names) {
      const word = new RegExp(`(^|[^a-z0-9])${name}($|[^a-z0-9])`, 'i');
      for (const [path, text] of texts) {
        if (own(path)) continue;
        const line = text.split('\n').findIndex((l) => word.test(l));
        if (line >= 0) found.push(`${path}:${line + 1} names ${name}`);
      }
    }
  }
  return found;
}

/** A scripted wire: answers after a turn, counting what is in flight; `fail` makes some requests fail. */
function scriptedWire(fail: (n: number) => Error | undefined = () => undefined) {
  const seen = { requests: 0, inFlight: 0, maxInFlight: 0, protocols: new Set<string>(), scripts: new Set<string>() };
  const wire: Wire = {
    async exchange(protocol, _target, settings, signal) {
      const n = ++seen.requests;
      seen.protocols.add(protocol);
      if (settings.script) seen.scripts.add(settings.script);
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      await new Promise((r) => setImmediate(r));
      seen.inFlight--;
      signal.throwIfAborted();
      const error = fail(n);
      if (error) throw error;
      return { status: 200, workerPid: String(100 + (n % 3)) } satisfies Answer;
    },
    probe: async () => 'answered',
    sustain: async () => {
      throw new Error('the scripted wire has no autocannon');
    },
    keepsAlive: async () => false,
    closing: async () => ({ status: 200, workerPid: undefined }),
    reach: async () => ({ conclusive: false, served: [], statusCodes: {}, errors: 0 }),
    body: async () => undefined,
    command: async (run) => ({ stdout: `started ${run.argv.join(' ')}\n101\n102\n\n102\n`, durationMs: 5 }),
  };
  return { wire, seen };
}

const HTTP: WarmupSettings = { requests: 30, connections: 10, path: '/', workerPidHeader: 'X-Worker-Pid' };
const FCGI: WarmupSettings = { requests: 30, connections: 4, path: '/?a=1', protocol: 'fastcgi', script: '/srv/app/index.php' };
const RUN = { cwd: '/srv/app', env: {} };

describe('warm-up protocols, one module each', () => {
  it("a protocol's words appear only in its module, the registry and the families whose server speaks it", () => {
    const texts = new Map(files(SRC).map((p) => [relative(SRC, p), readFileSync(p, 'utf8')]));
    assert.ok(texts.size > 50);
    assert.deepEqual(protocolLeaks(texts, PROTOCOLS), []);
  });
  it('the check finds a protocol named elsewhere', () => {
    const planted = new Map([
      ['run/ready.ts', '// not in FastCGI\n'],
      ['servers/php-fpm.ts', '// spoken to in FastCGI\n'],
      ['servers/gunicorn.ts', '// no fastcgi here\n'],
      ['protocols/fastcgi/client.ts', '// FastCGI records\n'],
    ]);
    assert.deepEqual(protocolLeaks(planted, PROTOCOLS).sort(), ['run/ready.ts:1 names fastcgi', 'servers/gunicorn.ts:1 names fastcgi']);
  });
  it('a warm-up is spoken by its command, its named protocol, or HTTP', () => {
    assert.equal(protocolOf(HTTP), httpProtocol);
    assert.equal(protocolOf(FCGI), fastcgiProtocol);
    assert.equal(protocolOf({ requests: 1, connections: 1, path: '/', command: ['send-tasks'] }), commandProtocol);
    assert.equal(new Set(PROTOCOLS.map((p) => p.name)).size, PROTOCOLS.length);
  });
});

describe('the lane pump', () => {
  it('keeps at most the lanes in flight, uses them, and sends exactly the amount', async () => {
    const { wire, seen } = scriptedWire();
    const counted: string[] = [];
    const r = await pump(
      200,
      10,
      (s) => wire.exchange('http', { port: 1 }, HTTP, s),
      (_status, pid) => counted.push(pid ?? ''),
    );
    assert.equal(seen.requests, 200);
    assert.equal(r.sent, 200);
    assert.equal(r.requests, 200);
    assert.equal(counted.length, 200);
    assert.ok(seen.maxInFlight <= 10, `in flight at most the lanes (saw ${seen.maxInFlight})`);
    assert.ok(seen.maxInFlight >= 8, `the lanes are used (saw ${seen.maxInFlight})`);
    assert.equal(r.latenciesMs.length, 200);
  });
  it('counts timeouts and errors apart, and goes on after them', async () => {
    const { wire } = scriptedWire((n) => (n % 10 === 0 ? new NoAnswerError('late') : n % 7 === 0 ? new Error('reset') : undefined));
    const r = await pump(
      70,
      5,
      (s) => wire.exchange('http', { port: 1 }, HTTP, s),
      () => {},
    );
    assert.equal(r.sent, 70);
    assert.equal(r.timeouts, 7);
    assert.equal(r.errors, 9);
    assert.equal(r.requests, 70 - 7 - 9);
  });
  it('a stopped signal ends every lane and throws its reason', async () => {
    const { wire, seen } = scriptedWire();
    const ac = new AbortController();
    const flowing = pump(
      100_000,
      4,
      (s) => wire.exchange('http', { port: 1 }, HTTP, s),
      () => {},
      ac.signal,
    );
    while (seen.requests < 50) await new Promise((r) => setImmediate(r));
    ac.abort(new Error('stop'));
    await assert.rejects(flowing, /stop/);
    const at = seen.requests;
    await new Promise((r) => setImmediate(r));
    assert.ok(seen.requests - at <= 4, `no lane went on (${seen.requests - at} more)`);
  });
});

describe('each protocol builds its load on the wire', () => {
  it("HTTP's flow is the lanes, at the settings' connections", async () => {
    const { wire, seen } = scriptedWire();
    const r = await httpProtocol.load(HTTP, wire, RUN).flow('http://127.0.0.1:8000', HTTP, 120, () => {});
    assert.equal(r.requests, 120);
    assert.ok(seen.maxInFlight <= HTTP.connections && seen.maxInFlight >= 8, `saw ${seen.maxInFlight}`);
    assert.deepEqual([...seen.protocols], ['http']);
  });
  it("HTTP's lanes count answers that end at the server's close; the phase then skips autocannon", async () => {
    const { wire } = scriptedWire();
    let sustained = 0;
    wire.sustain = async () => {
      sustained++;
      throw new Error('not through autocannon');
    };
    wire.keepsAlive = async () => true;
    const exchange = wire.exchange;
    wire.exchange = async (...a) => ({ ...(await exchange(...a)), closeDelimited: true });
    const closing = httpProtocol.load(HTTP, wire, RUN);
    const r = await closing.flow('http://127.0.0.1:8000', HTTP, 6, () => {});
    assert.equal(r.requests, 6, 'every close-delimited answer counted');
    const phase = await closing.sustain?.('http://127.0.0.1:8000', HTTP, { connections: 2, durationMs: 20 });
    assert.equal(sustained, 0, 'no autocannon for answers it cannot count');
    assert.equal(phase?.client, 'lanes');
    assert.ok((phase?.requests ?? 0) > 0);
  });
  it("FastCGI's lanes send exactly the amount, each naming the script, at most the settings' connections at once", async () => {
    const { wire, seen } = scriptedWire();
    const load = fastcgiProtocol.load(FCGI, wire, RUN);
    const pids: string[] = [];
    const r = await load.flow('http://127.0.0.1:9000', FCGI, 37, (_s, pid) => pids.push(pid ?? ''));
    assert.equal(seen.requests, 37);
    assert.equal(r.requests, 37);
    assert.equal(pids.length, 37);
    assert.ok(seen.maxInFlight <= 4, `saw ${seen.maxInFlight}`);
    assert.deepEqual([...seen.scripts], ['/srv/app/index.php']);
    assert.deepEqual([...seen.protocols], ['fastcgi']);
  });
  it("a command's printed pids are its answers; a round of N runs it once per `connections` requests", async () => {
    const { wire } = scriptedWire();
    const settings: WarmupSettings = { requests: 2, connections: 1, path: '/', command: ['send', '3'] };
    const pids: string[] = [];
    const r = await commandProtocol.load(settings, wire, RUN).flow('', settings, 2, (_s, pid) => pids.push(pid ?? ''));
    assert.deepEqual(pids, ['101', '102', '102', '101', '102', '102']);
    assert.equal(r.requests, 6);
  });
  it('FastCGI refuses a script the pool cannot find, in its own words', () => {
    assert.match(
      fastcgiProtocol.refused?.(FCGI, 3, { 404: 3 }) ?? '',
      /warmup.script ".*index.php": the pool answered 404 to every request/,
    );
    assert.equal(fastcgiProtocol.refused?.(FCGI, 3, { 200: 2, 404: 1 }), undefined);
  });
});
