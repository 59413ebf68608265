import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { assertEveryWorkerServed, cli, cliAsync, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-celery-');
const APP = join(ROOT, 'scenarios', 'apps', 'celery-tasks');
const shipped = JSON.parse(readFileSync(join(ROOT, 'scenarios', 'celery-import-in-parent.json'), 'utf8')) as Record<string, unknown>;

/** The shipped scenario with its app by absolute path, one variant, and these fields changed. */
function scenario(name: string, change: Record<string, unknown>): string {
  const file = join(tmp, `${name}.json`);
  const { $schema: _, ...rest } = shipped;
  writeFileSync(file, JSON.stringify({ ...rest, name, app: APP, variants: [(shipped.variants as unknown[])[1]], runs: 1, ...change }));
  return file;
}

/** Processes of ours still running a command line that contains this text. */
function running(text: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text) && isAlive(Number(n));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('Celery prefork with a Redis service, warmed by a command', { timeout: 400_000 }, () => {
  it('every child served; importing in the parent lowers total PSS and per-child USS; gc.freeze keeps the children shared', () => {
    const file = join(tmp, 'celery.json');
    const r = cli(['run', 'celery-import-in-parent', '--runs', '1', '--json', file, '-q', '--no-lock'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    assertEveryWorkerServed(doc, 3);
    // The broker is never measured.
    for (const v of doc.variants) assert.ok(!v.runs.some((run) => run.processes.some((p) => p.command.includes('redis-server'))));
    const s = (n: string) => doc.summary.variants.find((x) => x.name === n);
    assert.ok((s('import-in-parent')?.totalPssBytes.median ?? 0) < (s('import-in-task')?.totalPssBytes.median ?? 0));
    assert.ok((s('import-in-parent')?.workerUssBytes.median ?? 0) < (s('import-in-task')?.workerUssBytes.median ?? 0));
    assert.ok((s('import-in-parent-gc-freeze')?.totalPssBytes.median ?? 0) < (s('import-in-parent')?.totalPssBytes.median ?? 0));
    assert.deepEqual(running('redis-server 127.0.0.1'), [], 'the service is stopped');
  });

  const bad: Array<[string, Record<string, unknown>, RegExp, number]> = [
    [
      'a warm-up command that fails',
      { warmup: { command: ['/bin/sh', '-c', 'echo boom >&2; exit 4'] } },
      /warmup\.command .*exited 4: boom/,
      2,
    ],
    ['a warm-up command that prints no pids', { warmup: { command: ['/bin/echo', 'done'] } }, /printed no pids/, 2],
    [
      'a warm-up command that prints pids that are not workers',
      { warmup: { command: ['/bin/echo', '1'] } },
      /printed pids that are not workers of the measured tree \(1;/,
      2,
    ],
    ['a warm-up command that hangs', { warmup: { command: ['/bin/sleep', '60'], timeoutSeconds: 2 } }, /did not finish within 2 s/, 2],
    [
      'a service that never becomes ready',
      { services: [{ name: 'redis', command: ['/bin/sh', '-c', 'echo starting {port}; exec sleep 60'], timeoutSeconds: 2 }] },
      /services\.redis .*not ready after 2 s/,
      3,
    ],
  ];
  for (const [what, change, message, code] of bad) {
    it(`bad input: ${what} (exit ${code}, one line, nothing left running)`, () => {
      const r = cli(['run', scenario(what.replaceAll(' ', '-'), change), '-q', '--no-lock'], { timeoutMs: 120_000 });
      assert.equal(r.status, code, r.stderr);
      assert.match(r.stderr.split('\n')[0] ?? '', message);
      assert.deepEqual(running(APP), []);
      assert.deepEqual(running('exec sleep 60'), []);
      assert.deepEqual(running('redis-server 127.0.0.1'), []);
    });
  }

  it('memcompare SIGKILLed mid-run leaves no Redis, no Celery process, no worker and no warm-up command behind', async (t) => {
    const child = cliAsync(['run', 'celery-import-in-parent', '--runs', '1', '--progress', '--no-lock'], t.signal);
    let stderr = '';
    await new Promise<void>((resolveSeen) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/warming up/.test(stderr)) resolveSeen();
      }),
    );
    assert.ok(running('redis-server 127.0.0.1').length > 0 && running('celery').length > 0, 'running before the kill');
    child.kill('SIGKILL');
    const started = Date.now();
    const left = () => [...running('redis-server 127.0.0.1'), ...running('-m celery'), ...running('send.py')];
    while (left().length > 0 && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(running('redis-server 127.0.0.1'), []);
    assert.deepEqual(running('-m celery'), []);
    assert.deepEqual(running('send.py'), [], 'the warm-up command, even when memcompare died as it was started');
  });
});
