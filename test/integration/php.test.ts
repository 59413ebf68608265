import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { realClock } from '../../src/clock.js';
import { fastcgiProbe, fastcgiRequest, getParams } from '../../src/protocols/fastcgi/client.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { freeLoopbackPort, launch } from '../../src/run/launch.js';
import { waitReady } from '../../src/run/ready.js';
import { realProc } from '../../src/run/seams.js';
import { stopServer } from '../../src/run/stop.js';
import { phpFpm } from '../../src/servers/php-fpm.js';
import { assertEveryWorkerServed, cli, ROOT, tempDir } from '../helpers.js';

const APP = join(ROOT, 'scenarios', 'apps', 'php-classes');
const tmp = tempDir('memcompare-php-');
chmodSync(tmp, 0o755);

describe("FastCGI: memcompare's record layer against a real php-fpm and cgi-fcgi", { timeout: 120_000 }, () => {
  it('the same status, headers and body as the reference client; 404 for a script php-fpm cannot find', async (t) => {
    const port = await freeLoopbackPort();
    const conf = join(tmp, 'pool.conf');
    writeFileSync(
      conf,
      `[global]\ndaemonize = no\n[t]\nlisten = 127.0.0.1:${port}\nuser = nobody\ngroup = nogroup\npm = static\npm.max_children = 2\n`,
    );
    const script = join(tmp, 'hello.php');
    writeFileSync(
      script,
      "<?php header('X-Worker-Pid: ' . getmypid()); header('X-Query: ' . $_SERVER['QUERY_STRING']); echo str_repeat('ab', 40000), \"\\n\";\n",
    );
    chmodSync(script, 0o644);
    const server = await launch({ argv: ['php-fpm8.2', '-F', '-O', '-y', conf], cwd: tmp, env: {} });
    t.after(() => stopServer(server, phpFpm));
    await waitReady(server, phpFpm, { port, path: '/', workers: 2, timeoutMs: 30_000 }, t.signal, {
      proc: realProc,
      clock: realClock,
      probe: (p) => fastcgiProbe({ port: p }, { requests: 1, connections: 1, path: '/', protocol: 'fastcgi', script }),
    });
    const ours = await fastcgiRequest(port, getParams(script, port, 'a=1'));
    const env = { ...process.env, ...getParams(script, port, 'a=1') };
    const ref = spawnSync('cgi-fcgi', ['-bind', '-connect', `127.0.0.1:${port}`], { env, encoding: 'utf8' });
    assert.equal(ref.status, 0, ref.stderr);
    const refBody = ref.stdout.slice(ref.stdout.search(/\r?\n\r?\n/)).replace(/^\r?\n\r?\n/, '');
    assert.equal(ours.status, 200);
    assert.equal(ours.body, refBody, 'an 80 kB body across several records');
    assert.equal(ours.headers['x-query'], 'a=1');
    assert.match(ours.headers['x-worker-pid'] ?? '', /^\d+$/);
    assert.match(ref.stdout, /X-Worker-Pid: \d+/);
    const missing = await fastcgiRequest(port, getParams(join(tmp, 'nope.php'), port));
    assert.equal(missing.status, 404);
    assert.match(missing.stderr, /Primary script unknown/);
  });
});

describe('php-fpm and Apache prefork, measured for real', { timeout: 420_000 }, () => {
  it('php-fpm-opcache: every child served over FastCGI; total PSS off > on > preload', () => {
    const file = join(tmp, 'fpm.json');
    const r = cli(['run', 'php-fpm-opcache', '--runs', '1', '--json', file, '-q', '--no-lock'], { timeoutMs: 200_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    assertEveryWorkerServed(doc, 5);
    const total = (name: string) => doc.summary.variants.find((s) => s.name === name)?.totalPssBytes.median ?? 0;
    const uss = (name: string) => doc.summary.variants.find((s) => s.name === name)?.workerUssBytes.median ?? 0;
    assert.ok(
      total('opcache-off') > total('opcache-on') && total('opcache-on') > total('opcache-preload'),
      JSON.stringify(doc.summary.variants.map((s) => [s.name, s.totalPssBytes.median])),
    );
    assert.ok(uss('opcache-off') > uss('opcache-on') && uss('opcache-on') > uss('opcache-preload'));
  });

  it('apache-prefork: every mod_php child served over HTTP; opcache lowers total PSS', () => {
    const file = join(tmp, 'apache.json');
    const r = cli(['run', 'apache-prefork', '--runs', '1', '--json', file, '-q', '--no-lock'], { timeoutMs: 200_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    for (const v of doc.variants) {
      assert.deepEqual(v.runs[0]?.warmup.idleWorkers, [], v.name);
      assert.equal(Object.keys(v.runs[0]?.warmup.requestsPerWorker ?? {}).length, 4, v.name);
    }
    const [off, on] = doc.summary.variants;
    assert.ok((on?.totalPssBytes.median ?? 0) < (off?.totalPssBytes.median ?? 0));
  });

  it('a pool listening on a Unix socket: warmed over it, every child served', () => {
    const dir = mkdtempSync(join(tmp, 'sock-'));
    chmodSync(dir, 0o755);
    const conf = join(dir, 'pool.conf');
    writeFileSync(
      conf,
      `[global]\ndaemonize = no\n[s]\nlisten = ${join(dir, 'php.sock')}\nlisten.mode = 0666\nuser = nobody\ngroup = nogroup\npm = static\npm.max_children = 3\n`,
    );
    const file = join(dir, 'r.json');
    const r = cli(
      [
        'run',
        '--command',
        `php-fpm8.2 -F -O -y ${conf}`,
        '--fastcgi-script',
        join(APP, 'index.php'),
        '--runs',
        '1',
        '--json',
        file,
        '-q',
        '--no-lock',
      ],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const run = (JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument).variants[0]?.runs[0];
    assert.deepEqual(run?.warmup.idleWorkers, []);
    assert.equal(Object.keys(run?.warmup.requestsPerWorker ?? {}).length, 3);
    assert.equal(run?.workerCount?.source, 'command');
  });

  it('Apache that passes apache2 -t and dies at startup, saying why only in its ErrorLog: the log is quoted', async () => {
    // mod_mime without a TypesConfig it can open: `apache2 -t` says Syntax OK, the start fails, stdout and stderr stay empty.
    const conf = join(tmp, 'startup.conf');
    const log = join(tmp, 'startup-error.log');
    const port = await freeLoopbackPort();
    writeFileSync(log, 'a line from an earlier boot, not quoted\n');
    writeFileSync(
      conf,
      readFileSync(join(APP, 'httpd.conf'), 'utf8')
        .replaceAll('{rundir}', tmp)
        .replaceAll('{app}', APP)
        .replaceAll('{port}', String(port))
        .replace(/^ErrorLog .*$/m, `ErrorLog ${log}`)
        .concat('LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\nTypesConfig /nonexistent/mime.types\n'),
    );
    const r = cli(
      ['run', '--command', `apache2 -DFOREGROUND -f ${conf} -C 'StartServers 2'`, '--runs', '1', '--no-lock', '--port', String(port)],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /exited during boot/);
    assert.match(r.stderr, new RegExp(`\\(${log.replaceAll('.', '\\.')}:\\)`), r.stderr);
    assert.match(r.stderr, /could not open mime types config file/, r.stderr);
    assert.doesNotMatch(r.stderr, /earlier boot/);
  });

  it('bad input: one line, exit 2, nothing left running', async () => {
    // An Apache configuration that fails apache2 -t.
    writeFileSync(
      join(tmp, 'bad.conf'),
      readFileSync(join(APP, 'httpd.conf'), 'utf8').replaceAll('{rundir}', tmp).replaceAll('{app}', APP),
    );
    const apache = cli(
      [
        'run',
        '--command',
        `apache2 -DFOREGROUND -f ${join(tmp, 'bad.conf')} -C 'BogusDirective on'`,
        '--runs',
        '1',
        '--no-lock',
        '--port',
        String(await freeLoopbackPort()),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(apache.status, 2, apache.stderr);
    assert.match(apache.stderr.split('\n')[0] ?? '', /fails its own check .*fix the configuration/);
    // A script that does not exist; no script at all.
    const conf = join(tmp, 'adhoc.conf');
    writeFileSync(
      conf,
      `[global]\ndaemonize = no\n[t]\nlisten = 127.0.0.1:${await freeLoopbackPort()}\nuser = nobody\ngroup = nogroup\npm = static\npm.max_children = 2\n`,
    );
    const missing = cli([
      'run',
      '--command',
      `php-fpm8.2 -F -O -y ${conf}`,
      '--fastcgi-script',
      join(tmp, 'missing.php'),
      '--runs',
      '1',
      '--no-lock',
    ]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /--fastcgi-script ".*missing.php": no such file/);
    // A port that answers, but not in FastCGI.
    writeFileSync(join(tmp, 'x.php'), '<?php echo 1;\n');
    const http = cli(
      [
        'run',
        '--command',
        '/usr/bin/python3 -m http.server {port} --bind 127.0.0.1',
        '--fastcgi-script',
        join(tmp, 'x.php'),
        '--runs',
        '1',
        '--no-lock',
      ],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(http.status, 2, http.stderr);
    assert.match(http.stderr.split('\n')[0] ?? '', /answers, but not in FastCGI/);
    const none = cli(['run', '--command', `php-fpm8.2 -F -y ${conf}`, '--runs', '1', '--no-lock']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /speaks FastCGI: add --fastcgi-script FILE/);
  });
});
