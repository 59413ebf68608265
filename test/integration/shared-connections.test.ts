import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cliAsync, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-shared-conn-');

// An app that connects to a service at import, as a database or cache client does: preloaded, the
// master opens the one connection and every worker inherits it.
const APP = `import os, socket
conn = socket.create_connection(("127.0.0.1", int(os.environ["PEER_PORT"])))

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2"), ("X-Worker-Pid", str(os.getpid()))])
    return [b"ok"]
`;

describe('connections opened before the fork, seen from /proc', { timeout: 180_000 }, () => {
  it('preloaded, the workers share the connection with the master (peer port named, gunicorn post_fork advised); lazy, none is shared', async (t) => {
    const peers: Socket[] = [];
    const peer = createServer((s) => {
      peers.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const s of peers) s.destroy();
      peer.close();
    });
    const peerPort = (peer.address() as AddressInfo).port;
    writeFileSync(join(tmp, 'app.py'), APP);
    const scenario = join(tmp, 'scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'connect-at-import',
        server: 'gunicorn',
        app: tmp,
        command: ['gunicorn', '--bind=127.0.0.1:{port}', '--workers=2', 'app:application'],
        workers: 2,
        env: { PEER_PORT: String(peerPort) },
        variants: [
          { name: 'lazy', args: [] },
          { name: 'preload', args: ['--preload'] },
        ],
        warmup: { requests: 20, connections: 4, workerPidHeader: 'X-Worker-Pid' },
        runs: 1,
        throughput: false,
      }),
    );
    const file = join(tmp, 'out.json');
    const child = cliAsync(['run', scenario, '--json', file, '--no-lock'], t.signal);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    child.stderr?.on('data', (d) => {
      out += String(d);
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, out);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    const run = (name: string) => doc.variants.find((v) => v.name === name)?.runs[0];
    const lazy = run('lazy');
    const preload = run('preload');
    assert.ok(lazy && preload);
    assert.equal(lazy.sharedConnections, undefined, JSON.stringify(lazy.sharedConnections));
    assert.equal(
      lazy.warnings.some((w) => w.kind === 'inherited-connection'),
      false,
    );
    const shared = preload.sharedConnections ?? [];
    assert.equal(shared.length, 1, JSON.stringify(shared));
    assert.equal(shared[0]?.peer, `127.0.0.1:${peerPort}`);
    assert.deepEqual(shared[0]?.holders.map((h) => h.role).sort(), ['master', 'worker', 'worker']);
    const w = preload.warnings.find((x) => x.kind === 'inherited-connection');
    assert.match(w?.message ?? '', new RegExp(`2 workers and the master hold one TCP connection to 127\\.0\\.0\\.1:${peerPort}`));
    assert.match(w?.remedy ?? '', /post_fork/);
    // The terminal says it too, in the warnings.
    assert.match(out, /inherited-connection|hold one TCP connection/);
  });
});
