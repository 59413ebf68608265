import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, cliAsync, FIXTURES, isAlive, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-faults-');
const ALLOC = join(FIXTURES, 'apps', 'alloc');

function onPort(port: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(`${port}`) && isAlive(Number(name))) out.push(Number(name));
    } catch {}
  }
  return out;
}

interface Watched {
  code: number | null;
  stderr: string;
  exitAt: number;
  /** When the first launched pid was seen gone (by polling /proc every 5 ms). */
  deathAt: number | undefined;
  ports: number[];
}

/** Runs the CLI, watching the launched server's pid, and calling `act` on each new stderr line. */
function watch(args: string[], signal: AbortSignal, act?: (line: string, stderr: string) => void): Promise<Watched> {
  return new Promise((resolve) => {
    const child = cliAsync(args, signal);
    let stderr = '';
    let pid: number | undefined;
    let deathAt: number | undefined;
    const ports: number[] = [];
    const timer = setInterval(() => {
      if (pid !== undefined && deathAt === undefined && !isAlive(pid)) deathAt = performance.now();
    }, 5);
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      for (const line of text.split('\n')) {
        const m = /booting pid (\d+) on port (\d+)/.exec(line);
        if (m) {
          pid ??= Number(m[1]);
          ports.push(Number(m[2]));
        }
        if (line) act?.(line, stderr);
      }
    });
    child.stdout.resume();
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stderr, exitAt: performance.now(), deathAt, ports });
    });
  });
}

describe('the server dies during boot: exit 3 within 2 s, quoting its last output', { timeout: 300_000 }, () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an import error in the app', 'gunicorn -b 127.0.0.1:{port} -w 2 no_such_module:application', /No module named 'no_such_module'/],
    ['a bad flag', 'gunicorn --no-such-flag -b 127.0.0.1:{port} -w 2 app:application', /unrecognized arguments: --no-such-flag/],
    ['a missing binary', 'no-such-server-binary --port {port}', /no-such-server-binary/],
  ];
  for (const [name, command, quoted] of cases) {
    it(name, async (t) => {
      const o = await watch(['run', '--command', command, '--workers', '2', '--runs', '1', '--cwd', ALLOC, '--progress'], t.signal);
      assert.equal(o.code, 3, o.stderr);
      assert.match(o.stderr, /memcompare: --command ".*": the server exited during boot; its last output is below/);
      assert.match(o.stderr, quoted);
      assert.doesNotMatch(o.stderr, /\n\s+at /);
      // A missing binary never has a pid; every other case must have been seen dying, and quickly.
      if (name !== 'a missing binary') {
        assert.ok(o.deathAt !== undefined, 'the launched pid was never seen');
        assert.ok(o.exitAt - o.deathAt < 2000, `exited ${Math.round(o.exitAt - o.deathAt)} ms after the server died`);
      }
      for (const port of o.ports) assert.deepEqual(onPort(port), []);
    });
  }
});

describe('a port already taken by another process', { timeout: 300_000 }, () => {
  it('is refused naming that pid; the foreign server is never warmed or measured', async () => {
    let connections = 0;
    const foreign = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const port = (foreign.address() as { port: number }).port;
    try {
      const r = cli([
        'run',
        '--command',
        `gunicorn -b 127.0.0.1:${port} -w 2 app:application`,
        '--port',
        String(port),
        '--workers',
        '2',
        '--cwd',
        ALLOC,
        '--runs',
        '1',
      ]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^memcompare: port ${port}: already in use by pid ${process.pid}; stop that process`));
      assert.equal(connections, 0, 'no request reached the foreign server');
      assert.deepEqual(
        onPort(port).filter((p) => p !== process.pid),
        [],
        'nothing was launched',
      );
    } finally {
      foreign.close();
    }
  });
});

describe('a worker killed mid-run', { timeout: 300_000 }, () => {
  for (const stage of ['warming up', 'settling']) {
    it(`while ${stage}: the server replaces it; the new worker is warmed and measured, and it says so`, async (t) => {
      const file = join(tmp, `killed-${stage.replace(' ', '-')}.json`);
      let killed = 0;
      const o = await watch(
        [
          'run',
          '--command',
          'gunicorn -b 127.0.0.1:{port} -w {workers} app:application',
          '--workers',
          '3',
          '--cwd',
          ALLOC,
          '--runs',
          '1',
          '--json',
          file,
          '--progress',
        ],
        t.signal,
        (line) => {
          const m = /booting pid (\d+)/.exec(line);
          if (m) (globalThis as { master?: number }).master = Number(m[1]);
          if (!killed && line.includes(stage)) {
            const master = (globalThis as { master?: number }).master as number;
            const kids = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(' ').map(Number);
            killed = kids[0] as number;
            process.kill(killed, 'SIGKILL');
          }
        },
      );
      assert.equal(o.code, 0, o.stderr);
      assert.ok(killed > 0);
      const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
      const run = doc.variants[0]?.runs[0];
      assert.ok(run);
      const workers = run.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
      assert.equal(workers.length, 3);
      assert.ok(!workers.includes(killed), 'the dead worker is not measured');
      // Every measured worker is known to have served traffic, or the run says one did not.
      const served = Object.keys(run.warmup.requestsPerWorker ?? {}).map(Number);
      const unwarmed = workers.filter((p) => !served.includes(p));
      assert.ok(unwarmed.length === 0 || run.warnings.some((w) => w.kind === 'idle-worker'), `unwarmed ${unwarmed} without a warning`);
      if (stage === 'settling')
        assert.ok(
          run.warnings.some((w) => w.kind === 'worker-replaced'),
          JSON.stringify(run.warnings),
        );
      for (const port of o.ports) assert.deepEqual(onPort(port), []);
    });
  }
});

describe('mismatches a user can make', { timeout: 300_000 }, () => {
  it('more workers than --workers: exit 2 naming both numbers', () => {
    const r = cli([
      'run',
      '--command',
      'gunicorn -b 127.0.0.1:{port} -w 3 app:application',
      '--workers',
      '2',
      '--cwd',
      ALLOC,
      '--runs',
      '1',
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^memcompare: --workers 2: the server runs 3 workers; pass --workers 3/);
  });
  it('an app that answers 500: measured, with a warning that it is not warm', () => {
    const file = join(tmp, 'five-hundred.json');
    const r = cli([
      'run',
      '--command',
      "env 'STATUS=500 Internal Server Error' gunicorn -b 127.0.0.1:{port} -w {workers} app:application",
      '--workers',
      '2',
      '--cwd',
      ALLOC,
      '--runs',
      '1',
      '--json',
      file,
      '--verbose',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[500\] 30 responses/);
    assert.match(r.stdout, /warning \(command1 run 1\): 30 of 30 warm-up responses were server errors \(5xx\)/);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    assert.ok(doc.warnings.some((w) => w.kind === 'warmup-errors'));
  });
});

describe('a server that ignores its stop signal', () => {
  // Sized to the case (5 s stop bound): a stop that never escalates fails here within a minute.
  it('is killed with SIGKILL after the bounded wait; nothing is left', { timeout: 60_000 }, async (t) => {
    const o = await watch(
      [
        'run',
        '--command',
        `/usr/bin/python3 ${join(FIXTURES, 'apps', 'stubborn', 'server.py')} {port} {workers}`,
        '--server',
        'generic',
        '--workers',
        '2',
        '--runs',
        '1',
        '--progress',
      ],
      t.signal,
    );
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stderr, /stopped \(forced with SIGKILL\)/);
    for (const port of o.ports) assert.deepEqual(onPort(port), []);
  });
});

describe('uWSGI, whose TERM means reload', { timeout: 300_000 }, () => {
  it('is stopped with INT, without force, and nothing is left', async (t) => {
    const o = await watch(
      [
        'run',
        '--command',
        'uwsgi --plugin python3 --http-socket 127.0.0.1:{port} --master --processes {workers} --wsgi-file app.py --callable application --need-app',
        '--workers',
        '2',
        '--runs',
        '1',
        '--cwd',
        ALLOC,
        '--progress',
      ],
      t.signal,
    );
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stderr, /\[command1 1\/1\] stopped\n/);
    assert.doesNotMatch(o.stderr, /forced/);
    for (const port of o.ports) assert.deepEqual(onPort(port), []);
  });
});

describe('an output path that cannot be written', { timeout: 300_000 }, () => {
  for (const [what, path] of [
    ['a read-only place', '/proc/memcompare.json'],
    ['a missing folder', join(tmp, 'no', 'such', 'dir', 'r.json')],
  ]) {
    it(`${what}: exit 2 before anything boots`, () => {
      const t = performance.now();
      const r = cli(['run', 'preload-vs-nopreload', '--json', path as string]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^memcompare: --json ".*": (not writable|folder .* does not exist)/);
      assert.ok(performance.now() - t < 3000, 'nothing booted');
      assert.ok(!existsSync(path as string));
    });
  }
});
