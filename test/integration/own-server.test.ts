import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, FIXTURES, isAlive, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-own-');
const MiB = 1048576;
const pidsOf = (doc: ResultsDocument) =>
  doc.variants.flatMap((v) => v.runs.flatMap((r) => [r.masterPid, ...r.processes.map((p) => p.pid)]));
const workersOf = (doc: ResultsDocument, v = 0) => doc.variants[v]?.runs[0]?.processes.filter((p) => p.role === 'worker') ?? [];

/** Every process whose command line holds this text (other than this search). */
function running(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.includes('pgrep'));
  } catch {
    return [];
  }
}

/** `memcompare run --command C` on the grow app, one run, with extra arguments. */
const runGrow = (command: string, extra: string[] = [], timeoutMs = 60_000) =>
  cli(['run', '--command', command, '--cwd', join(FIXTURES, 'apps', 'grow'), '--runs', '1', ...extra], { timeoutMs });

describe('your own server, ad hoc, without --workers', { timeout: 240_000 }, () => {
  it('gunicorn -w 3: the count comes from the command; memory that grows after the first response is waited for', () => {
    const file = join(tmp, 'grow.json');
    const r = runGrow('gunicorn -b 127.0.0.1:{port} -w 3 app:app', ['--json', file], 120_000);
    assert.equal(r.status, 0, r.stderr);
    const doc = readResults(file);
    const run = doc.variants[0]?.runs[0];
    assert.deepEqual(run?.workerCount, { count: 3, source: 'command' });
    assert.equal(workersOf(doc).length, 3);
    // Each worker holds 24 MiB once its thread is done: a sample taken before then is short.
    for (const w of workersOf(doc)) assert.ok(w.ussBytes >= 24 * MiB, `worker ${w.pid} USS ${(w.ussBytes / MiB).toFixed(1)} MiB`);
    assert.ok(pidsOf(doc).every((pid) => !isAlive(pid)));
  });

  it('a Node.js cluster (generic family): the workers are detected and measured, recorded as detected', () => {
    const file = join(tmp, 'cluster.json');
    const r = cli(
      ['run', '--command', `node ${join(FIXTURES, 'apps', 'node-cluster', 'server.cjs')} {port} 3`, '--runs', '1', '--json', file],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = readResults(file);
    assert.deepEqual(doc.variants[0]?.runs[0]?.workerCount, { count: 3, source: 'detected' });
    assert.equal(doc.scenario.workers, 3);
    for (const w of workersOf(doc)) assert.ok(w.ussBytes >= 8 * MiB, `worker ${w.pid} USS ${w.ussBytes}`);
    assert.ok(pidsOf(doc).every((pid) => !isAlive(pid)));
  });

  it('a declared count that is never reached fails within seconds, naming both counts', () => {
    const started = Date.now();
    const r = runGrow('gunicorn -b 127.0.0.1:{port} -w 2 app:app', ['--workers', '4']);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /runs 2 workers.*not 4.*--workers 2/);
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(running('-w 2 app:app'), []);
  });

  it('a daemonizing server (gunicorn --daemon) is named, stopped, and nothing is left running', () => {
    const marker = `--name=mc-daemon-${process.pid}`;
    const r = runGrow(`gunicorn -b 127.0.0.1:{port} -w 2 --daemon ${marker} app:app`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /daemonized.*foreground.*--daemon/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(running(marker), []);
  });
});
