import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunicorn } from '../../../src/servers/gunicorn.js';

const remedy = gunicorn.exitRemedy;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'memcompare-remedy-test-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Loads a generated config as gunicorn does (its globals), then calls its worker_exit: prints what the user's config set. */
function runConfig(file: string, cwd: string): { status: number | null; stdout: string } {
  const code = `import runpy, sys\ng = runpy.run_path(${JSON.stringify(file)})\nprint("workers", g.get("workers"))\nsys.stdout.flush()\ng["worker_exit"](None, None)\nprint("not reached")\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', code], { cwd, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout };
}

describe("gunicorn's exit remedy (a config of memcompare's own: the user's loaded, then worker_exit ends the worker)", () => {
  it('replaces the -c option in every spelling, keeps the rest, and never writes the user file', () => {
    assert.ok(remedy);
    const dir = tempDir();
    const user = join(dir, 'user.conf.py');
    const text = 'workers = 3\ndef worker_exit(server, worker):\n    print("user hook")\n';
    writeFileSync(user, text);
    for (const argv of [
      ['gunicorn', '-c', user, '-w', '2', 'app:app'],
      ['gunicorn', `--config=${user}`, '-w', '2', 'app:app'],
      ['gunicorn', `-c${user}`, '-w', '2', 'app:app'],
      ['gunicorn', '--config', user, '-w', '2', 'app:app'],
    ]) {
      const out = remedy.apply(argv, dir, dir);
      assert.deepEqual(out.slice(0, 4), ['gunicorn', '-w', '2', 'app:app'], JSON.stringify(out));
      assert.equal(out[4], '--config');
      assert.equal(out.length, 6);
      const r = runConfig(out[5] as string, dir);
      // The user's settings and hook run first; os._exit(0) then ends the process before "not reached".
      assert.equal(r.stdout, 'workers 3\nuser hook\n');
      assert.equal(r.status, 0);
    }
    assert.equal(readFileSync(user, 'utf8'), text);
  });

  it('without -c, loads ./gunicorn.conf.py when there is one (as gunicorn would), and works without it', () => {
    assert.ok(remedy);
    const dir = tempDir();
    const out = remedy.apply(['gunicorn', 'app:app'], dir, dir);
    assert.equal(runConfig(out[3] as string, dir).stdout, 'workers None\n');
    writeFileSync(join(dir, 'gunicorn.conf.py'), 'workers = 5\n');
    assert.equal(runConfig(out[3] as string, dir).stdout, 'workers 5\n');
  });
});
