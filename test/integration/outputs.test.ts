import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, cli, FIXTURES, ROOT, tempDir } from '../helpers.js';
import { makeResults } from '../results-fixture.js';

const tmp = tempDir('memcompare-out-');
const results = join(tmp, 'results.json');
writeFileSync(results, JSON.stringify(makeResults()));

describe('outputs that are not regular files', { timeout: 120_000 }, () => {
  it('a symlink is written through and stays a link', () => {
    const target = join(tmp, 'real.csv');
    const link = join(tmp, 'link.csv');
    writeFileSync(target, 'old\n');
    symlinkSync(target, link);
    const r = cli(['report', results, '-f', 'csv', '--out', link]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), target);
    assert.match(readFileSync(target, 'utf8'), /^scenario,variant,metric/);
  });

  it('a dangling symlink (a stable name for a file still to be written) is written through: the target is created, the link kept', () => {
    const real = join(tmp, 'real');
    const links = join(tmp, 'links');
    mkdirSync(real);
    mkdirSync(links);
    symlinkSync('../real/r.csv', join(links, 'r.csv'));
    const r = cli(['report', results, '-f', 'csv', '--out', join(links, 'r.csv')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(links, 'r.csv')).isSymbolicLink());
    assert.match(readFileSync(join(real, 'r.csv'), 'utf8'), /^scenario,variant,metric/);

    symlinkSync('../real/r.json', join(links, 'r.json'));
    const run = cli(
      [
        'run',
        '--command',
        'gunicorn -b 127.0.0.1:{port} -w 1 app:app',
        '--cwd',
        join(FIXTURES, 'apps', 'grow'),
        '--runs',
        '1',
        '-q',
        '--json',
        join(links, 'r.json'),
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.ok(lstatSync(join(links, 'r.json')).isSymbolicLink());
    assert.equal(readlinkSync(join(links, 'r.json')), '../real/r.json');
    const doc = JSON.parse(readFileSync(join(real, 'r.json'), 'utf8')) as { complete: boolean };
    assert.equal(doc.complete, true);
  });

  it('a character device is written straight, never replaced (as root a rename would replace the device node)', () => {
    const dev = join(tmp, 'null');
    const mk = spawn('mknod', [dev, 'c', '1', '3']);
    return new Promise<void>((done, fail) => {
      mk.on('exit', (code) => {
        try {
          assert.equal(code, 0);
          for (const args of [
            ['report', results, '-f', 'json', '--out', dev],
            ['check', results, '--baseline', results, '--summary', dev],
          ]) {
            const r = cli(args);
            // check of a file against itself, unpaired: a pass or undecided (4), never a regression.
            assert.ok(r.status === 0 || (args[0] === 'check' && r.status === 4), r.stderr);
            assert.ok(lstatSync(dev).isCharacterDevice(), `${args[0]} replaced the device`);
          }
          assert.ok(lstatSync('/dev/null').isCharacterDevice());
          done();
        } catch (e) {
          fail(e);
        }
      });
    });
  });

  it('a FIFO is written straight: its reader gets the whole report, and it stays a FIFO', async () => {
    const fifo = join(tmp, 'pipe');
    await new Promise((r) => spawn('mkfifo', [fifo]).on('exit', r));
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (d) => (got += d));
    const r = cli(['report', results, '-f', 'csv', '--out', fifo]);
    await new Promise((done) => reader.on('exit', done));
    assert.equal(r.status, 0, r.stderr);
    assert.match(got, /^scenario,variant,metric/);
    assert.ok(lstatSync(fifo).isFIFO());
  });
});

describe('the host lock: one run at a time', { timeout: 180_000 }, () => {
  const lockDir = tempDir('memcompare-lock-');
  const env = { MEMCOMPARE_LOCK_DIR: lockDir };
  const command = ['run', '--command', 'gunicorn -b 127.0.0.1:{port} -w 1 app:app', '--cwd', join(FIXTURES, 'apps', 'grow'), '--runs', '1'];

  it('--no-wait refuses while another run holds the lock (exit 2); without it the run waits, says so, then measures', async () => {
    const holder = spawn('flock', ['-x', join(lockDir, 'memcompare.lock'), 'sh', '-c', 'echo locked; exec cat'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise((r) => holder.stdout.once('data', r));
    const refused = cli([...command, '--no-wait'], { env });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /another memcompare run is measuring on this host.*--no-lock/);

    const waiting = spawn(process.execPath, [BIN, ...command], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    await new Promise<void>((saidSo) => {
      waiting.stderr.on('data', (d) => {
        err += d;
        if (/waiting for it to finish/.test(err)) saidSo();
      });
    });
    holder.stdin.end();
    const code = await new Promise((r) => waiting.on('exit', r));
    assert.equal(code, 0, err);
  });
});
