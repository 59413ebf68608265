import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../src/results/file.js';
import { BIN, cli, gitRepo, tempDir } from '../helpers.js';

const APP = `import os
def app(environ, start_response):
    start_response("200 OK", [("X-Worker-Pid", str(os.getpid()))])
    return [b"ok"]
`;
const SCENARIO = {
  name: 'mine',
  server: 'gunicorn',
  app: 'app',
  command: ['gunicorn', '-b', '127.0.0.1:{port}', '-w', '{workers}', 'app:app'],
  workers: 2,
  variants: [{ name: 'app', args: [] }],
  warmup: { requests: 4, connections: 2 },
  runs: 3,
};

/** A git repository as a user keeps one: a scenario file beside their app. */
function makeRepo() {
  return gitRepo('memcompare-repo-', (dir) => {
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'app.py'), APP);
    writeFileSync(join(dir, 'memory.json'), JSON.stringify(SCENARIO, null, 2));
  });
}

describe('run --baseline-ref: base against head on one runner, in one run', { timeout: 420_000 }, () => {
  const repo = makeRepo();

  it('a head whose app allocates 10 MiB more per worker fails the gate (exit 1), naming the variant and the metric', () => {
    writeFileSync(join(repo.dir, 'app', 'app.py'), APP.replace('import os', 'import os\nBALLAST = b"x" * (10 * 1024 * 1024)'));
    repo.commit('ballast');
    const results = join(repo.dir, 'r.json');
    const run = cli(['run', 'memory.json', '--baseline-ref', 'HEAD~1', '--json', results, '-q'], { cwd: repo.dir, timeoutMs: 180_000 });
    assert.equal(run.status, 0, run.stderr);
    const doc = readResults(results);
    assert.deepEqual(
      doc.variants.map((v) => [v.name, v.revision?.role, v.revision?.commit.length]),
      [
        ['app@base', 'base', 40],
        ['app', 'head', 40],
      ],
    );
    // Interleaved: base run 1, head run 1, base run 2, …
    const starts = doc.variants.flatMap((v) => v.runs.map((r) => [r.startedAt, v.name] as const)).sort();
    assert.deepEqual(
      starts.map(([, n]) => n),
      ['app@base', 'app', 'app@base', 'app', 'app@base', 'app'],
    );
    const check = cli(['check', results], { cwd: repo.dir });
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /FAIL — app PSS per worker \+(9\.9\d|10\.\d+) MiB/);
    assert.match(check.stdout, /paired\s+t\s+\(run\s+i\s+of\s+head\s+against\s+run\s+i\s+of\s+base\),\s+3\s+runs\s+per\s+side/);
    // The worktree is gone.
    assert.equal(repo.git('worktree', 'list').trim().split('\n').length, 1);
  });

  it('an unchanged head is never a regression, 5 times in a row', () => {
    for (let i = 0; i < 5; i++) {
      const results = join(repo.dir, `same${i}.json`);
      const run = cli(['run', 'memory.json', '--baseline-ref', 'HEAD', '--json', results, '-q'], { cwd: repo.dir, timeoutMs: 180_000 });
      assert.equal(run.status, 0, run.stderr);
      const check = cli(['check', results], { cwd: repo.dir });
      assert.ok(check.status === 0 || check.status === 4, `attempt ${i + 1}: ${check.stdout}`);
    }
  });

  it('the worktree is removed on Ctrl-C; one left by a SIGKILLed run is removed by the next run', async () => {
    const worktrees = () => repo.git('worktree', 'list').trim().split('\n').length;
    const interrupted = async (signal: NodeJS.Signals) => {
      const child = spawn(process.execPath, [BIN, 'run', 'memory.json', '--baseline-ref', 'HEAD', '--progress', '--no-lock'], {
        cwd: repo.dir,
      });
      let err = '';
      await new Promise<void>((booted) => {
        child.stderr.on('data', (d) => {
          err += d;
          if (/booting pid/.test(err)) booted();
        });
      });
      child.kill(signal);
      return new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    };
    assert.equal(await interrupted('SIGINT'), 130);
    assert.equal(worktrees(), 1);
    await interrupted('SIGKILL');
    assert.equal(worktrees(), 2, 'a SIGKILLed run leaves its worktree');
    const next = cli(['run', 'memory.json', '--baseline-ref', 'HEAD', '--runs', '1', '-q'], { cwd: repo.dir, timeoutMs: 120_000 });
    assert.equal(next.status, 0, next.stderr);
    assert.equal(worktrees(), 1, 'the next run removed it');
  });

  it('bad refs, a scenario outside a repository and a document without a base are one-line errors, exit 2', () => {
    const bad = cli(['run', 'memory.json', '--baseline-ref', 'no-such-ref'], { cwd: repo.dir });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^memcompare: --baseline-ref "no-such-ref": no such commit in .*fetch-depth: 0\)\n$/);
    const outside = tempDir('memcompare-norepo-');
    writeFileSync(join(outside, 'memory.json'), JSON.stringify({ ...SCENARIO, app: undefined }));
    const notRepo = cli(['run', join(outside, 'memory.json'), '--baseline-ref', 'HEAD'], { cwd: outside });
    assert.equal(notRepo.status, 2);
    assert.match(notRepo.stderr, /is not inside a git repository/);
    const plain = JSON.parse(readFileSync(join(repo.dir, 'same0.json'), 'utf8'));
    plain.variants = plain.variants.filter((v: { revision?: { role: string } }) => v.revision?.role === 'head');
    for (const v of plain.variants) delete v.revision;
    writeFileSync(join(repo.dir, 'plain.json'), JSON.stringify(plain));
    const noBase = cli(['check', join(repo.dir, 'plain.json')], { cwd: repo.dir });
    assert.equal(noBase.status, 2);
    assert.match(noBase.stderr, /has no base revision to compare with; make it with memcompare run --baseline-ref REF/);
  });

  it('a baseline from another host or software is refused (exit 2, naming the field) unless --allow-host-change', () => {
    const current = join(repo.dir, 'same0.json');
    const doc = JSON.parse(readFileSync(current, 'utf8'));
    for (const [field, change] of [
      ['kernel', (d: typeof doc) => (d.host.kernel = '5.10.0-28-amd64')],
      ['server', (d: typeof doc) => (d.host.server = 'gunicorn (version 19.9.0)')],
    ] as const) {
      const other = JSON.parse(JSON.stringify(doc));
      change(other);
      const file = join(repo.dir, `other-${field}.json`);
      writeFileSync(file, JSON.stringify(other));
      const refused = cli(['check', current, '--baseline', file], { cwd: repo.dir });
      assert.equal(refused.status, 2, refused.stdout);
      assert.match(refused.stderr, new RegExp(`measured on another host or software \\(${field} `));
      const allowed = cli(['check', current, '--baseline', file, '--allow-host-change'], { cwd: repo.dir });
      assert.notEqual(allowed.status, 2, allowed.stderr);
    }
    // The CPU model does not move memory: a note, not a refusal.
    const cpu = JSON.parse(JSON.stringify(doc));
    cpu.host.cpu = 'AuthenticAMD EPYC';
    writeFileSync(join(repo.dir, 'other-cpu.json'), JSON.stringify(cpu));
    const noted = cli(['check', current, '--baseline', join(repo.dir, 'other-cpu.json')], { cwd: repo.dir });
    assert.notEqual(noted.status, 2, noted.stderr);
    assert.match(noted.stdout, /note: cpu /);
  });
});
