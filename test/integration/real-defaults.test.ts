import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withDescendants } from '../../src/proc/tree.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { freeLoopbackPort } from '../../src/run/launch.js';
import { cli, cliAsync, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-defaults-');
chmodSync(tmp, 0o755);
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;

// Apps that send no pid header: the warm-up must prove every worker served another way.
const RACK = join(tmp, 'rack');
const WSGI = join(tmp, 'wsgi');
for (const [dir, file, text] of [
  [RACK, 'config.ru', "run ->(_env) { s = 0; 2000.times { |i| s += i }; [200, { 'Content-Type' => 'text/plain' }, [\"ok #{s}\\n\"]] }\n"],
  [
    WSGI,
    'app.py',
    'def application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"ok\\n"]\n',
  ],
] as const) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), text);
}

function runThreaded(name: string, command: string, cwd: string): ResultsDocument {
  const file = join(tmp, `${name}.json`);
  const r = cli(['run', '--command', command, '--cwd', cwd, '--runs', '1', '--json', file, '-q', '--no-lock'], { timeoutMs: 150_000 });
  assert.equal(r.status, 0, r.stderr);
  return read(file);
}

describe('threaded workers without a pid header: every worker proved to serve', { timeout: 400_000 }, () => {
  for (const [name, command, cwd] of [
    ['puma-1-1', 'puma -w 2 -t 1:1 -b tcp://127.0.0.1:{port} config.ru', RACK],
    ['puma-4-4', 'puma -w 2 -t 4:4 -b tcp://127.0.0.1:{port} config.ru', RACK],
    ['gthread', '/usr/bin/python3 /usr/bin/gunicorn -k gthread --threads 4 -w 2 -b 127.0.0.1:{port} app:application', WSGI],
  ] as const) {
    it(`${name}: no "served no request", by held connections, and warmed to a steady state by default`, () => {
      const doc = runThreaded(name, command, cwd);
      const run = doc.variants[0]?.runs[0];
      assert.ok(run);
      assert.equal(run.processes.filter((p) => p.role === 'worker').length, 2);
      assert.deepEqual(run.warmup.idleWorkers, [], JSON.stringify(run.warmup));
      assert.equal(run.warmup.trafficEvidence, 'connection', JSON.stringify(run.warmup));
      assert.deepEqual(
        run.warnings.filter((w) => w.kind === 'idle-worker'),
        [],
      );
      assert.ok(run.warmup.steady, 'the default warm-up goes on to a steady state');
      assert.equal(doc.scenario.warmup.until, 'steady');
    });
  }

  it('a worker stopped with SIGSTOP before the warm-up is still reported idle', async (t) => {
    const file = join(tmp, 'stopped.json');
    // --timeout 120: gunicorn's master would otherwise kill the silent worker after 30 s.
    const child = cliAsync(
      [
        'run',
        '--command',
        '/usr/bin/python3 /usr/bin/gunicorn -k gthread --threads 4 -w 2 --timeout 120 -b 127.0.0.1:{port} app:application',
        '--cwd',
        WSGI,
        '--runs',
        '1',
        '--warmup-requests',
        '30',
        '--json',
        file,
        '--progress',
        '--no-lock',
      ],
      t.signal,
    );
    let err = '';
    let stopped: number | undefined;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /booting pid (\d+)/.exec(err);
      if (m && stopped === undefined) {
        const master = Number(m[1]);
        // Stop the first worker as soon as it exists: the rest of the tree boots and serves without it.
        const poll = setInterval(() => {
          const workers = withDescendants([master]).filter((p) => p !== master);
          if (workers.length === 0) return;
          clearInterval(poll);
          stopped = workers[0] as number;
          process.kill(stopped, 'SIGSTOP');
        }, 5);
      }
      if (stopped !== undefined && /measured total PSS/.test(err)) {
        try {
          process.kill(stopped, 'SIGCONT');
        } catch {
          // gone already
        }
      }
    });
    const code = await exited;
    assert.equal(code, 0, err);
    assert.ok(stopped !== undefined);
    const run = read(file).variants[0]?.runs[0];
    assert.ok(run);
    assert.deepEqual(run.warmup.idleWorkers, [stopped], JSON.stringify(run.warmup));
    assert.ok(run.warnings.some((w) => w.kind === 'idle-worker' && w.message.includes(String(stopped))));
    assert.equal(isAlive(stopped), false, 'the stopped worker did not outlive memcompare');
  });
});

describe("a port fixed in the user's own configuration", { timeout: 300_000 }, () => {
  it('php-fpm: two variants × three runs on the pool file’s listen; the pool file unchanged', async () => {
    const app = join(ROOT, 'scenarios', 'apps', 'php-classes');
    const port = await freeLoopbackPort();
    const conf = join(tmp, 'www.conf');
    writeFileSync(
      conf,
      `; the user's own pool\n[global]\ndaemonize = no\n[www]\nlisten = 127.0.0.1:${port}\nuser = nobody\ngroup = nogroup\npm = static\npm.max_children = 2\n`,
    );
    const hash = () => createHash('sha256').update(readFileSync(conf)).digest('hex');
    const before = hash();
    const file = join(tmp, 'fixed-port.json');
    const r = cli(
      [
        'run',
        '--command',
        `php-fpm8.2 -F -O -y ${conf} -d opcache.enable=0`,
        '--command',
        `php-fpm8.2 -F -O -y ${conf} -d opcache.enable=1`,
        '--name',
        'off',
        '--name',
        'on',
        '--fastcgi-script',
        join(app, 'index.php'),
        '--runs',
        '3',
        '--json',
        file,
        '-q',
        '--no-lock',
      ],
      { timeoutMs: 250_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = read(file);
    assert.deepEqual(
      doc.variants.map((v) => v.runs.map((x) => x.port)),
      [
        [port, port, port],
        [port, port, port],
      ],
    );
    assert.equal(hash(), before, 'the pool file is byte for byte what it was');
    const [off, on] = doc.summary.variants;
    assert.ok(off && on && on.totalPssBytes.median < off.totalPssBytes.median, 'opcache on shares the compiled code');
  });

  it('a port held by a process memcompare did not start is bad input at once', async (t) => {
    const port = await freeLoopbackPort();
    const { createServer } = await import('node:net');
    const holder = createServer().listen(port, '127.0.0.1');
    t.after(() => holder.close());
    await new Promise((r) => holder.once('listening', r));
    const started = Date.now();
    const r = cli(
      ['run', '--command', `/usr/bin/python3 /usr/bin/gunicorn -w 1 -b 127.0.0.1:${port} app:application`, '--cwd', WSGI, '--no-lock'],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.split('\n')[0] ?? '', new RegExp(`port ${port}: already in use`));
    assert.ok(Date.now() - started < 10_000, 'not after a wait');
  });
});

describe('the warm-up command sees the environment of the variant and of the scenario', { timeout: 300_000 }, () => {
  it("Celery whose broker URL is only in the scenario's env: the sender reads it from the environment", () => {
    const dir = join(tmp, 'celery');
    cpSync(join(ROOT, 'scenarios', 'apps', 'celery-tasks'), join(dir, 'app'), { recursive: true });
    const scenario = {
      name: 'celery-env',
      server: 'celery',
      app: 'app',
      services: [
        { name: 'redis', command: ['redis-server', '--port', '{port}', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'] },
      ],
      env: { BROKER_URL: 'redis://127.0.0.1:{services.redis.port}/0', IMPORT_AT: 'task' },
      command: ['/usr/bin/python3', '-m', 'celery', '-A', 'tasks', 'worker', '-P', 'prefork', '--concurrency', '{workers}', '-O', 'fair'],
      workers: 2,
      variants: [{ name: 'lazy' }, { name: 'eager', env: { IMPORT_AT: 'module' } }],
      // No broker on the command line: send.py gets it from BROKER_URL.
      warmup: { command: ['/usr/bin/python3', 'send.py', '12'], timeoutSeconds: 120 },
      runs: 1,
    };
    writeFileSync(join(dir, 'celery-env.json'), JSON.stringify(scenario));
    const file = join(dir, 'out.json');
    const r = cli(['run', join(dir, 'celery-env.json'), '--json', file, '-q', '--no-lock'], { timeoutMs: 250_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = read(file);
    for (const v of doc.variants) {
      const w = v.runs[0]?.warmup;
      assert.equal(Object.values(w?.requestsPerWorker ?? {}).reduce((a, n) => a + n, 0) >= 12, true, `${v.name}: ${JSON.stringify(w)}`);
    }
    assert.equal(doc.variants[1]?.env.IMPORT_AT, 'module', "a variant's own key wins");
    assert.match(doc.variants[0]?.env.BROKER_URL ?? '', /^redis:\/\/127\.0\.0\.1:\{services\.redis\.port\}\/0$/);
  });
});
