import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-lifetime-');
const LEAK = join(ROOT, 'scenarios', 'apps', 'leak');

/** `run --command … --soak 8 --max-worker-uss 40MiB --verify` on 2 workers: the CLI's result and its document (exit 0 asserted). */
function soakAndVerify(command: string, cwd: string, name: string): { r: ReturnType<typeof cli>; doc: ResultsDocument } {
  const file = join(tmp, name);
  const r = cli(
    [
      'run',
      '--command',
      command,
      '--cwd',
      cwd,
      '--runs',
      '1',
      '--soak',
      '8',
      '--max-worker-uss',
      '40MiB',
      '--verify',
      '--json',
      file,
      '-q',
      '--no-lock',
    ],
    { timeoutMs: 180_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return { r, doc: JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument };
}

describe('worker lifetime on real gunicorn workers', { timeout: 300_000 }, () => {
  it('gunicorn -w 2 --max-requests 100 under 1,000 requests: 10 replacements, each with its pids, recycled by the server', () => {
    const file = join(tmp, 'recycle.json');
    // 1,000 requests: 5 s at 200 a second (a scenario holds the rate; the warm-up's requests count too).
    const scenario = join(tmp, 'recycle-scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'recycle',
        app: LEAK,
        command: ['gunicorn', '-b', '127.0.0.1:{port}', '-w', '2', '--max-requests', '100', 'wsgi:application'],
        workers: 2,
        variants: [{ name: 'max-requests-100' }],
        warmup: { requests: 2, connections: 2 },
        runs: 1,
        soak: { durationSeconds: 5, connections: 2, rate: 200, intervalMs: 100 },
        // The log's restarts are counted against the soak's: no throughput phase after it restarting more.
        throughput: false,
      }),
    );
    // Progress on (one line per stage when piped): the soak's own line marks where the soak ended in the log.
    const r = cli(['run', scenario, '--json', file, '--progress', '--no-lock', '--show-output', '--no-throughput'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    const soak = doc.variants[0]?.runs[0]?.soak;
    assert.ok(soak?.replacements);
    assert.ok(soak.requests >= 800 && soak.requests <= 1100, String(soak.requests));
    // As many replacements as the server's own log says it made during the soak ("Autorestarting worker",
    // copied by --show-output; the readiness probe and the warm-up count towards max_requests too, so about
    // 1,000 requests make 8 to 10). Lines after the soak's progress line are not the soak's: a worker born
    // as the soak ended served nothing, the settle stage warms it, and that can recycle its older sibling.
    const soakLine = r.stderr.search(/ soak: \d+ responses in /);
    assert.ok(soakLine > 0, r.stderr);
    const restarts = (r.stderr.slice(0, soakLine).match(/Autorestarting worker/g) ?? []).length;
    assert.ok(restarts >= 7, `${restarts} restarts in the log`);
    assert.equal(soak.replacements.length, restarts, JSON.stringify(soak.replacements.map((x) => [x.oldPid, x.newPid])));
    for (const x of soak.replacements) {
      assert.ok(x.oldPid > 0 && x.newPid !== null && x.newPid !== x.oldPid, JSON.stringify(x));
      assert.equal(x.cause, 'recycled');
    }
    assert.match(r.stdout, /workers replaced \(\d+ recycled by the server, 0 died\)/);
  });

  it('10 KiB kept per request: growth within 5% of 10,240 bytes plus overhead, R² ≥ 0.99; advice keeps a worker under the limit', () => {
    const { r, doc } = soakAndVerify('gunicorn -b 127.0.0.1:{port} -w 2 wsgi:application', LEAK, 'leak.json');
    const soak = doc.variants[0]?.runs[0]?.soak;
    const g = soak?.growth;
    assert.ok(g);
    assert.equal(g.verdict, 'growth');
    // Measured by hand: 10,317 bytes a request (10,240 plus Python's object overhead).
    assert.ok(Math.abs(g.bytesPerRequest - 10317) / 10317 <= 0.05, `${g.bytesPerRequest.toFixed(0)} bytes per request`);
    assert.ok(g.r2 >= 0.99, `R² ${g.r2}`);
    assert.match(soak?.advice?.setting ?? '', /^--max-requests \d+ --max-requests-jitter \d+$/);
    assert.match(r.stdout, /each worker's USS grows \d+ bytes per request/);
    // --verify: a second soak with the setting applied; every worker's peak USS against the limit, reported as it is.
    assert.ok((soak?.advice?.exitCopyBytes ?? 0) > 0, 'the advice accounts for the exit copy');
    const rounds = (doc.verification ?? []).filter((x) => !x.remedy);
    assert.ok(rounds.length >= 1 && rounds.length <= 3, `${rounds.length} rounds`);
    // The closed loop: rounds go on while the limit is broken, and the last one held.
    assert.equal(rounds.at(-1)?.within, true, JSON.stringify(rounds));
    for (const x of rounds.slice(0, -1)) assert.equal(x.within, false);
    const v = rounds[0];
    assert.ok(v, 'verified');
    assert.ok(v.workerPeakUssBytes.length >= 2, JSON.stringify(v));
    assert.equal(
      v.within,
      v.workerPeakUssBytes.every((u) => u <= 40 * 1048576),
    );
    assert.match(r.stdout, /verified with --max-requests \d+ --max-requests-jitter \d+: (every|NOT every) worker stayed under 40\.0 MiB/);
    // The exit remedy (os._exit in worker_exit, in a config of memcompare's own): one more round, after the loop.
    const remedy = (doc.verification ?? []).filter((x) => x.remedy);
    assert.equal(remedy.length, 1, JSON.stringify(doc.verification));
    const rem = remedy[0]?.remedy;
    assert.equal(remedy[0]?.setting, rounds.at(-1)?.setting, 'the remedy round keeps the setting that held');
    assert.match(r.stdout, /and the exit remedy \(end the worker in the config file's worker_exit hook/);
    if (rem && rem.exitCopyBytes !== null) {
      // Measured by hand: 8.4-9.3 MiB copied at exit without the hook, under 0.3 MiB with it (docs/lifetime.md).
      assert.ok(rem.exitCopyBytes < rem.withoutBytes / 4, JSON.stringify(rem));
      assert.equal(soak?.advice?.remedy?.exitCopyBytes, rem.exitCopyBytes);
      assert.match(soak?.advice?.text ?? '', /to save the exit copy, end the worker/);
    }
  });

  it("the exit watch: a recycled worker's exit is sampled closely, its copy measured, within the sampler's budget", () => {
    const file = join(tmp, 'exit.json');
    const scenario = join(tmp, 'exit-scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'exit',
        app: LEAK,
        command: ['gunicorn', '-b', '127.0.0.1:{port}', '-w', '2', '--max-requests', '300', 'wsgi:application'],
        workers: 2,
        variants: [{ name: 'max-requests-300' }],
        warmup: { requests: 4, connections: 2, workerPidHeader: 'X-Worker-Pid' },
        runs: 1,
        // 10 s: about six exits, so that a loaded runner that hears some lines late still watches one in time.
        soak: { durationSeconds: 10, connections: 2, rate: 200, intervalMs: 100 },
      }),
    );
    const r = cli(['run', scenario, '--json', file, '-q', '--no-lock'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const soak = (JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument).variants[0]?.runs[0]?.soak;
    assert.ok(soak?.replacements && soak.replacements.length >= 2, JSON.stringify(soak?.replacements));
    const watched = soak.replacements.filter((x) => x.oldExitPeakUssBytes !== null);
    assert.ok(watched.length >= 1, 'at least one exit watched');
    // The exit copies what the worker shared with the master: at an exit the watch heard in time, its peak is
    // well above its last regular sample (one heard late, after the heap began to shrink, shows no rise).
    const rose = watched.filter((x) => (x.oldExitPeakUssBytes as number) > (x.oldLastUssBytes as number) + 512 * 1024);
    assert.ok(rose.length >= 1, JSON.stringify(watched));
    assert.equal(soak.exitCopy?.source, 'measured');
    assert.ok((soak.exitCopy?.bytes ?? 0) > 512 * 1024, JSON.stringify(soak.exitCopy));
    assert.ok(soak.samplerCpuPercent <= soak.maxCpuPercent, `sampler ${soak.samplerCpuPercent}% of a core`);
  });

  it("uWSGI by RSS: --reload-on-rss advised where a worker's RSS is at the limit, verified by a soak with it", () => {
    // The leak app with a Content-Length: uWSGI's http-socket passes the app's response on as it is.
    const app = join(tmp, 'uwsgi-leak');
    mkdirSync(app, { recursive: true });
    writeFileSync(
      join(app, 'wsgi.py'),
      readFileSync(join(LEAK, 'wsgi.py'), 'utf8').replace('str(os.getpid()))]', 'str(os.getpid())), ("Content-Length", "3")]'),
    );
    const { r, doc } = soakAndVerify(
      'uwsgi --plugin python3 --http-socket 127.0.0.1:{port} --master --processes 2 --wsgi-file wsgi.py --die-on-term',
      app,
      'uwsgi-rss.json',
    );
    const memory = doc.variants[0]?.runs[0]?.soak?.advice?.memory;
    assert.match(memory?.setting ?? '', /^--reload-on-rss \d+ --min-worker-lifetime 0$/, JSON.stringify(memory));
    assert.match(memory?.text ?? '', /counts the \d+\.\d MiB a fresh worker shares with the master/);
    const byRss = (doc.verification ?? []).filter((x) => x.byRss);
    assert.equal(byRss.length, 1, JSON.stringify(doc.verification));
    const v = byRss[0];
    assert.ok(v && v.replacements >= 1, `the threshold recycled workers: ${JSON.stringify(v)}`);
    assert.equal(v.byRss?.recycledAtBirth, 0, JSON.stringify(v));
    assert.equal(v.within, true, JSON.stringify(v));
    assert.match(r.stdout, /verified by RSS with --reload-on-rss \d+ --min-worker-lifetime 0: every worker stayed under 40\.0 MiB/);
    // The request count too: without --min-worker-lifetime 0 uWSGI recycled nothing younger than 10 s (a peak of 87 MiB).
    const byCount = (doc.verification ?? []).filter((x) => !x.byRss && !x.remedy);
    assert.match(byCount[0]?.setting ?? '', /^--max-requests \d+ --min-worker-lifetime 0$/);
    assert.equal(byCount.at(-1)?.within, true, JSON.stringify(byCount));
  });

  it('a family without a recycling setting, and the advice without a soak: exit 2 before anything boots', () => {
    const generic = cli(['run', '--command', 'python3 -m http.server {port}', '--soak', '5', '--max-worker-uss', '100MiB', '--runs', '1']);
    assert.equal(generic.status, 2);
    assert.match(generic.stderr, /generic has no recycling setting; families with one: gunicorn, uwsgi/);
    const noSoak = cli(['run', '--command', 'gunicorn -b 127.0.0.1:{port} wsgi:application', '--max-worker-uss', '100MiB', '--runs', '1']);
    assert.equal(noSoak.status, 2);
    assert.match(noSoak.stderr, /add --soak SECONDS/);
  });
});
