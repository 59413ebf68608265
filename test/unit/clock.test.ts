import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sleep, within } from '../../src/clock.js';
import { ROOT } from '../helpers.js';

describe('within: a promise or a bound, whichever comes first', () => {
  it('gives the promise when it settles first, the bound’s value when time runs out, and rejects on an abort', async () => {
    assert.equal(await within(Promise.resolve('done'), 5_000, () => 'late'), 'done');
    assert.equal(
      await within(
        sleep(2_000).then(() => 'done'),
        20,
        () => 'late',
      ),
      'late',
    );
    const ac = new AbortController();
    const cut = within(new Promise(() => {}), 5_000, () => 'late', undefined, ac.signal);
    ac.abort(new Error('interrupted'));
    await assert.rejects(cut, /interrupted/);
  });

  it('leaves no timer behind: a process that only raced a settled promise with a 60 s bound exits at once', () => {
    const clock = pathToFileURL(join(ROOT, 'dist', 'src', 'clock.js')).href;
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { within } = await import(${JSON.stringify(clock)}); await within(Promise.resolve(1), 60_000, () => 0);`,
      ],
      {
        timeout: 20_000,
      },
    );
    assert.equal(r.status, 0, String(r.stderr));
    assert.ok(Date.now() - started < 15_000, `${Date.now() - started} ms`);
  });
});
