import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../src/memory.js';
import { readResults } from '../../src/results/file.js';
import { cli, cliAsync, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-passenger-');

/** Every process of Passenger on the host (the frontend, the watchdog and what it started, the toucher). */
function passengerPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const state = /\) (\S)/.exec(readFileSync(`/proc/${name}/stat`, 'utf8'))?.[1];
      if (state !== 'Z' && /^(Passenger |\S*PassengerAgent |ruby \S*passenger start)/.test(cmd)) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Polls until nothing of Passenger that was not there before is left (bounded); returns what is left. */
async function leftover(before: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = passengerPids().filter((p) => !before.includes(p));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A copy of the shipped Rack app: Passenger writes nothing into it (its pid file and log go to memcompare's run folder). */
function appCopy(): string {
  const dir = join(tmp, `app-${Date.now()}`);
  cpSync(join(ROOT, 'scenarios', 'apps', 'rack-heavy'), dir, { recursive: true });
  return dir;
}

const command = (spawn: string) =>
  `passenger start --engine=builtin --address 127.0.0.1 --port {port} --environment production --min-instances 3 --max-pool-size 3 --spawn-method ${spawn}`;

describe('Passenger Standalone: its daemonized watchdog measured and stopped', { timeout: 300_000 }, () => {
  it('smart against direct: every application process found, the preloader shares the app, nothing of Passenger left, the app folder untouched', async () => {
    const before = passengerPids();
    const app = appCopy();
    const files = readdirSync(app).sort();
    const file = join(tmp, 'smart-direct.json');
    const r = cli(
      [
        'run',
        '--command',
        command('direct'),
        '--command',
        command('smart'),
        '--name',
        'direct',
        '--name',
        'smart',
        '--cwd',
        app,
        '--runs',
        '1',
        '--no-throughput',
        '--json',
        file,
      ],
      { timeoutMs: 240_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /forced/);
    const doc = readResults(file);
    assert.equal(doc.scenario.server, 'passenger');
    for (const v of doc.variants) {
      const run = v.runs[0];
      assert.ok(run);
      const roles = run.processes.map((p) => p.role);
      assert.equal(
        roles.filter((x) => x === 'worker').length,
        3,
        JSON.stringify(run.processes.map((p) => [p.pid, p.ppid, p.role, p.command])),
      );
      assert.equal(roles.filter((x) => x === 'master').length, 1, 'the watchdog');
      // The watchdog left the launched process: it is in the tree only through the subreaper.
      const watchdog = run.processes.find((p) => p.role === 'master');
      assert.equal(watchdog?.ppid, run.masterPid, 'the watchdog was re-parented to the subreaper');
      assert.ok(
        run.processes.some((p) => /temp-dir-toucher/.test(p.command)),
        'the toucher it daemonizes is measured',
      );
      // What passenger-memory-stats lists, not the launcher in the foreground (`passenger start`, its log's tail).
      assert.deepEqual(
        run.processes.filter((p) => !/^(Passenger |\S*PassengerAgent )/.test(p.command)).map((p) => p.command),
        [],
      );
    }
    const perWorker = doc.summary.comparisons.find((c) => c.metric === 'workerPssBytes' && c.variant === 'smart');
    assert.ok(perWorker && perWorker.ratio < 0.75, `smart per-worker PSS ratio ${perWorker?.ratio}`);
    assert.deepEqual(await leftover(before, 5000), [], 'nothing of Passenger left');
    assert.deepEqual(readdirSync(app).sort(), files, "the app's folder is as it was");
  });

  it('passenger-memory-stats lists the processes a run measures; its "Private" is the Private_Dirty memcompare reads (within 2%)', async () => {
    const before = passengerPids();
    const dir = mkdtempSync(join(tmp, 'by-hand-'));
    const port = 18000 + (process.pid % 1000);
    const started = spawn(
      'passenger',
      [
        'start',
        '--engine=builtin',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--min-instances',
        '3',
        '--max-pool-size',
        '3',
      ].concat([
        '--disable-security-update-check',
        '--disable-anonymous-telemetry',
        '--pid-file',
        join(dir, 'p.pid'),
        '--log-file',
        join(dir, 'p.log'),
      ]),
      { cwd: appCopy(), stdio: 'ignore', detached: true },
    );
    try {
      const deadline = Date.now() + 60_000;
      const apps = () =>
        passengerPids().filter((p) => !before.includes(p) && /^Passenger RubyApp/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')));
      while (apps().length < 3 && Date.now() < deadline) {
        spawnSync('curl', ['-fs', '-o', '/dev/null', '--max-time', '5', `http://127.0.0.1:${port}/`]);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(apps().length, 3);
      const watchdog = Number(readFileSync(join(dir, 'p.pid'), 'utf8'));
      const snapshot = () => {
        const snap = cli(['snapshot', '--pid', String(watchdog), '--tree', '--json']);
        assert.equal(snap.status, 0, snap.stderr);
        return new Map((JSON.parse(snap.stdout) as Snapshot).processes.map((p) => [p.pid, p]));
      };
      // Read before and after passenger-memory-stats: the core keeps allocating (its request buffers, its
      // logs), so a figure it prints may lie between memcompare's two reads, not at either.
      const ours = snapshot();
      const stats = spawnSync('passenger-memory-stats', { encoding: 'utf8', timeout: 30_000 });
      const after = snapshot();
      const rows = [...stats.stdout.matchAll(/^(\d+)\s+[\d.]+ MB\s+([\d.]+) MB\s+(.*)$/gm)].filter((m) => !before.includes(Number(m[1])));
      // The watchdog's tree, and the toucher it daemonizes (not the watchdog's child: a run finds it through the subreaper).
      assert.equal(rows.length, 7, stats.stdout);
      for (const [, pid, privateMb, name] of rows) {
        if (/temp-dir-toucher/.test(name as string)) continue;
        const p = ours.get(Number(pid));
        assert.ok(p, `${name} (${pid}) not in memcompare's tree`);
        const dirty = (p.fields.Private_Dirty ?? 0) / 1048576;
        const later = (after.get(Number(pid))?.fields.Private_Dirty ?? p.fields.Private_Dirty ?? 0) / 1048576;
        const [low, high] = [Math.min(dirty, later), Math.max(dirty, later)];
        // passenger-memory-stats prints one decimal of MB: 0.05 MB of rounding, and 2% beyond the two reads.
        const slack = Math.max(0.051, 0.02 * high);
        const printed = Number(privateMb);
        assert.ok(
          printed >= low - slack && printed <= high + slack,
          `${name}: ${privateMb} MB vs Private_Dirty ${dirty.toFixed(2)}–${later.toFixed(2)} MiB`,
        );
        assert.ok(p.ussBytes >= (p.fields.Private_Dirty ?? 0), 'USS adds the private clean pages');
      }
    } finally {
      spawnSync('passenger', ['stop', '--port', String(port), '--pid-file', join(dir, 'p.pid')], { timeout: 30_000 });
      started.kill('SIGKILL');
      const left = await leftover(before, 10_000);
      for (const p of left) process.kill(p, 'SIGKILL');
    }
    assert.deepEqual(await leftover(before, 5000), []);
  });

  for (const [signal, moment] of [
    ['SIGKILL', /warming up/],
    ['SIGINT', /booting pid/],
    ['SIGINT', /settling/],
  ] as const) {
    it(`memcompare sent ${signal} (at "${moment.source}"): the daemonized watchdog and everything under it are stopped too, its run folder removed`, async () => {
      const before = passengerPids();
      // The run's folder (Passenger's pid file and log): removed by the run's teardown, or by the guard after a SIGKILL.
      const runFolders = () => readdirSync(tmpdir()).filter((f) => f.startsWith('memcompare-server-'));
      const foldersBefore = new Set(runFolders());
      const child = cliAsync(['run', '--command', command('smart'), '--cwd', appCopy(), '--runs', '1', '--no-throughput', '--progress']);
      let stderr = '';
      const reached = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 120_000);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (moment.test(stderr)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        child.on('exit', () => resolve(false));
      });
      child.stdout.resume();
      assert.ok(reached, stderr);
      const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(performance.now())));
      const sentAt = performance.now();
      child.kill(signal);
      const endedAt = await exited;
      if (signal === 'SIGINT') assert.ok(endedAt - sentAt < 2000, `ended ${Math.round(endedAt - sentAt)} ms after SIGINT`);
      assert.deepEqual(await leftover(before, 10_000), [], `left running after ${signal}:\n${stderr}`);
      // The guard removes it once the group is killed (under the subreaper a second after SIGTERM): polled, bounded.
      let left = runFolders().filter((f) => !foldersBefore.has(f));
      for (const until = performance.now() + 10_000; left.length > 0 && performance.now() < until; ) {
        await new Promise((r) => setTimeout(r, 100));
        left = runFolders().filter((f) => !foldersBefore.has(f));
      }
      assert.deepEqual(left, [], `run folders left after ${signal}`);
    });
  }
});
