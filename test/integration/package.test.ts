import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from '../helpers.js';

// Installed as users install it: npm pack, then npm install of the tarball into an empty folder.
describe('installed from the npm tarball', { timeout: 420_000 }, () => {
  const dir = tempDir('memcompare-pack-');
  execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, stdio: 'ignore' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), '{"name":"user-app","private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball as string)], {
    cwd: app,
    stdio: 'ignore',
    timeout: 300_000,
  });
  const npx = (args: string[], timeout = 120_000) =>
    spawnSync('npx', ['--no-install', 'memcompare', ...args], { cwd: app, encoding: 'utf8', timeout });

  it('npx memcompare --help', () => {
    const r = npx(['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /memcompare <command>/);
  });
  it('snapshot', () => {
    const r = npx(['snapshot', '--pid', String(process.pid), '-t']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /PID User/);
  });
  it("a shipped scenario's run, then report and check of its results", () => {
    const results = join(app, 'r.json');
    const run = npx(['run', 'preload-vs-nopreload', '--runs', '1', '--json', results, '-q'], 240_000);
    assert.equal(run.status, 0, run.stderr);
    const report = npx(['report', results, '--out', join(app, 'r.md')]);
    assert.equal(report.status, 0, report.stderr);
    const check = npx(['check', results, '--baseline', results]);
    // A file against itself, unpaired: a pass or undecided (4), never a regression.
    assert.ok(check.status === 0 || check.status === 4, check.stderr);
    assert.match(check.stdout, /memcompare check: (pass|inconclusive)/);
  });
  it('the library entry point', () => {
    const code =
      "import { takeSnapshot, METRICS } from 'memcompare'; const s = takeSnapshot({ pids: [process.ppid] }); console.log(s.processes.length, METRICS.length > 0);";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: app, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 true');
  });
});
