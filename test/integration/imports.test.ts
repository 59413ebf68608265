import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ImportNode } from '../../src/results/imports.js';
import { freeLoopbackPort as freePort } from '../../src/run/launch.js';
import { cli, SEED_APP, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-imports-it-');
const PY = '/usr/bin/python3';

/** Private memory (Private_Clean + Private_Dirty) one import adds, read in-process around it by hand. */
function byHand(module: string, cwd: string): number {
  const code = `
def p():
    t = 0
    for l in open('/proc/self/smaps_rollup'):
        if l.startswith(('Private_Clean', 'Private_Dirty')): t += int(l.split()[1])
    return t * 1024
a = p()
import ${module}
print(p() - a)`;
  const r = spawnSync(PY, ['-c', code], { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** Every file under a directory with its content's hash. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

const probeDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('memcompare-imports-') && !join(tmpdir(), n).startsWith(tmp));

interface ImportsDoc {
  stopped: boolean;
  processes: { pid: number; forked: boolean; totalBytes: number; tree: ImportNode[] }[];
}

const find = (nodes: readonly ImportNode[], module: string): ImportNode | undefined => {
  for (const n of nodes) {
    if (n.module === module) return n;
    const below = find(n.children, module);
    if (below) return below;
  }
  return undefined;
};

describe('memcompare imports -- COMMAND (the import probe on PYTHONPATH)', { timeout: 240_000 }, () => {
  it("the seed app's matplotlib.pyplot and a lone numpy agree with an in-process measurement by hand within 15%; the app's files unchanged, nothing left behind", () => {
    const before = hashes(SEED_APP);
    const dirsBefore = probeDirs();
    const app = join(tmp, 'app.json');
    const r = cli(['imports', '--json', app, '--', PY, '-c', 'import wsgi'], { cwd: SEED_APP, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /matplotlib\.pyplot/);
    const doc = JSON.parse(readFileSync(app, 'utf8')) as ImportsDoc;
    assert.equal(doc.processes.length, 1);
    const pyplot = find(doc.processes[0]?.tree ?? [], 'matplotlib.pyplot');
    const handPyplot = byHand('matplotlib.pyplot', SEED_APP);
    assert.ok(pyplot, 'matplotlib.pyplot in the tree');
    assert.ok(
      Math.abs(pyplot.inclusiveBytes - handPyplot) / handPyplot <= 0.15,
      `matplotlib.pyplot: ${pyplot.inclusiveBytes} by the probe, ${handPyplot} by hand`,
    );
    const lone = join(tmp, 'numpy.json');
    const n = cli(['imports', '--json', lone, '--', PY, '-c', 'import numpy'], { cwd: SEED_APP, timeoutMs: 120_000 });
    assert.equal(n.status, 0, n.stderr);
    const numpy = find((JSON.parse(readFileSync(lone, 'utf8')) as ImportsDoc).processes[0]?.tree ?? [], 'numpy');
    const handNumpy = byHand('numpy', SEED_APP);
    assert.ok(
      numpy && Math.abs(numpy.inclusiveBytes - handNumpy) / handNumpy <= 0.15,
      `numpy: ${numpy?.inclusiveBytes} by the probe, ${handNumpy} by hand`,
    );
    assert.deepEqual(hashes(SEED_APP), before);
    assert.deepEqual(probeDirs(), dirsBefore);
  });

  it("a server: the master's imports and each worker's after the fork; stopped at --timeout with nothing left running", async () => {
    const port = await freePort();
    const out = join(tmp, 'server.json');
    const r = cli(
      ['imports', '--timeout', '4', '--json', out, '--', 'gunicorn', '-w', '2', '--preload', '-b', `127.0.0.1:${port}`, 'wsgi:application'],
      { cwd: SEED_APP, timeoutMs: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /still running after 4 s \(--timeout\) and was stopped/);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as ImportsDoc;
    assert.equal(doc.stopped, true);
    const master = doc.processes.find((p) => !p.forked);
    assert.ok(master && find(master.tree, 'matplotlib.pyplot'), 'the preloaded master imported the app');
    const left = spawnSync('pgrep', ['-f', `127.0.0.1:${port}`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', `left running: ${left}`);
  });

  it("Ruby through RUBYOPT: openssl's require within 15% of a measurement by hand, a forked child's requires after the fork", () => {
    // By hand: private memory around the one require, in a fresh interpreter.
    const hand = spawnSync(
      'ruby',
      [
        '-e',
        'p = -> { File.foreach("/proc/self/smaps_rollup").sum { |l| l.start_with?("Private_Clean:", "Private_Dirty:") ? l.split[1].to_i * 1024 : 0 } }; a = p.(); require "openssl"; puts p.() - a',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(hand.status, 0, hand.stderr);
    const byHandBytes = Number(hand.stdout.trim());
    const out = join(tmp, 'ruby.json');
    const r = cli(
      ['imports', '--threshold', '0', '--json', out, '--', 'ruby', '-e', 'require "openssl"; Process.wait(fork { require "erb" })'],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as ImportsDoc;
    const parent = doc.processes.find((p) => !p.forked);
    const child = doc.processes.find((p) => p.forked);
    const openssl = find(parent?.tree ?? [], 'openssl');
    assert.ok(openssl, JSON.stringify(parent?.tree.map((n) => n.module)));
    assert.ok(
      Math.abs(openssl.inclusiveBytes - byHandBytes) / byHandBytes <= 0.15,
      `openssl: ${openssl.inclusiveBytes} by the probe, ${byHandBytes} by hand`,
    );
    assert.ok(child && find(child.tree, 'erb'), 'the forked child required erb after the fork');
    assert.equal(find(parent?.tree ?? [], 'erb'), undefined);
  });

  it('bad input: no command, or one that starts no Python, is one line and exit 2', () => {
    const none = cli(['imports']);
    assert.equal(none.status, 2);
    assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
    assert.match(none.stderr, /COMMAND/);
    const sh = cli(['imports', '--', '/bin/true']);
    assert.equal(sh.status, 2);
    assert.match(sh.stderr, /\/bin\/true.*no Python or Ruby interpreter/);
    assert.equal(sh.stderr.trim().split('\n').length, 1, sh.stderr);
  });
});
