import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { withDescendants } from '../../src/proc/tree.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { freeLoopbackPort, launch } from '../../src/run/launch.js';
import { stopServer } from '../../src/run/stop.js';
import { uvicorn } from '../../src/servers/uvicorn.js';
import { cli, cliAsync, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-uvicorn-');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A held-out ASGI app (not the scenario's): Starlette and Jinja2, no pid header.
const APP = join(tmp, 'app');
mkdirSync(APP);
writeFileSync(
  join(APP, 'main.py'),
  `import os
import jinja2
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

T = jinja2.Environment().from_string("<ul>{% for r in rows %}<li>{{ r }}</li>{% endfor %}</ul>")

async def home(request):
    return HTMLResponse(T.render(rows=range(50)))

app = Starlette(routes=[Route("/", home)])
`,
);
const SCENARIO_APP = join(ROOT, 'scenarios', 'apps', 'asgi-fastapi');

const tree = (pid: number) => withDescendants([pid]);
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // gone
  }
}
const totalPssKiB = (pid: number) => tree(pid).reduce((s, p) => s + pssKiB(p), 0);

/**
 * The hand measurement of FACTS.md: start, wait for every worker and an answer, 400 requests with hey,
 * then (instead of a fixed 3 s) wait until the total PSS holds still, and sum every process's Pss.
 */
async function handTotalKiB(workers: number): Promise<number> {
  const port = await freeLoopbackPort();
  const server = await launch({ argv: ['uvicorn', '--workers', String(workers), '--port', String(port), 'main:app'], cwd: APP, env: {} });
  try {
    const spawned = () => tree(server.pid).filter((p) => p !== server.pid && uvicorn.roleOf(p, server.pid, server.pid) === 'worker').length;
    for (
      let i = 0;
      spawned() < workers ||
      !(await fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    ) {
      assert.ok(i < 300, 'uvicorn did not start its workers in 60 s');
      await sleep(200);
    }
    await promisify(execFile)('hey', ['-n', '400', '-c', '20', `http://127.0.0.1:${port}/`]);
    let last = totalPssKiB(server.pid);
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const now = totalPssKiB(server.pid);
      if (Math.abs(now - last) / last < 0.001) return now;
      last = now;
    }
    return last;
  } finally {
    await stopServer(server, uvicorn);
  }
}

function measure(name: string, command: string, cwd: string): ResultsDocument {
  const file = join(tmp, `${name}.json`);
  const r = cli(['run', '--command', command, '--cwd', cwd, '--runs', '1', '--json', file, '-q', '--no-lock'], { timeoutMs: 150_000 });
  assert.equal(r.status, 0, r.stderr);
  return read(file);
}

describe('uvicorn --workers: spawned workers found, warmed and measured as by hand', { timeout: 600_000 }, () => {
  it('a held-out app without a pid header: 3 workers (the resource tracker is not one), each proved to serve, within 2% of a hand measurement', async () => {
    const doc = measure('heldout', 'uvicorn --workers 3 --port {port} main:app', APP);
    const run = doc.variants[0]?.runs[0];
    assert.ok(run);
    assert.equal(doc.scenario.server, 'uvicorn');
    assert.equal(run.processes.filter((p) => p.role === 'worker').length, 3);
    assert.equal(run.processes.filter((p) => p.role === 'other').length, 1, 'the resource tracker');
    assert.deepEqual(run.warmup.idleWorkers, []);
    assert.notEqual(run.warmup.trafficEvidence, 'cpu-time');
    assert.deepEqual(run.warnings, []);
    assert.equal(run.warmup.steady?.reached, true, JSON.stringify(run.warmup.steady));
    const ours = run.totals.pssBytes / 1024;
    const hand = await handTotalKiB(3);
    const off = (ours - hand) / hand;
    assert.ok(
      Math.abs(off) < 0.02,
      `memcompare ${(ours / 1024).toFixed(1)} MiB, by hand ${(hand / 1024).toFixed(1)} MiB (${(off * 100).toFixed(1)}%)`,
    );
  });

  it("the scenario's app with its pid header: every worker counted by the header; steady, not growing per connection", () => {
    const doc = measure('header', 'uvicorn --workers 3 --port {port} app:app', SCENARIO_APP);
    const run = doc.variants[0]?.runs[0];
    assert.ok(run);
    const workers = run.processes.filter((p) => p.role === 'worker').map((p) => String(p.pid));
    assert.equal(workers.length, 3);
    assert.equal(run.warmup.trafficEvidence, 'pid-header');
    for (const pid of workers) assert.ok((run.warmup.requestsPerWorker?.[pid] ?? 0) > 0, `worker ${pid} served`);
    // A client that drops kept-alive connections grows these workers ~4 KiB a request: the warm-up would never be steady.
    assert.equal(run.warmup.steady?.reached, true, JSON.stringify(run.warmup.steady));
    assert.equal(run.warmup.steady?.linear, false);
  });

  for (const [moment, when] of [
    ['at boot', /booting pid/],
    ['in the warm-up', /warming up/],
    ['while settling', /settling/],
  ] as const) {
    it(`SIGINT ${moment}: exit 130, the supervisor, its workers and its resource tracker all gone`, async (t) => {
      const child = cliAsync(
        ['run', '--command', 'uvicorn --workers 3 --port {port} main:app', '--cwd', APP, '--runs', '1', '--progress', '--no-lock'],
        t.signal,
      );
      const seen = new Set<number>();
      let stderr = '';
      const code = await new Promise<number | null>((resolve) => {
        let sent = false;
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const master = /booting pid (\d+)/.exec(stderr);
          if (master) for (const p of tree(Number(master[1]))) seen.add(p);
          if (!sent && when.test(stderr)) {
            sent = true;
            child.kill('SIGINT');
          }
        });
        child.stdout.resume();
        child.on('exit', resolve);
      });
      assert.equal(code, 130, stderr);
      assert.ok(seen.size >= 1, stderr);
      assert.deepEqual(
        [...seen].filter((p) => isAlive(p)),
        [],
        'nothing memcompare started is left',
      );
    });
  }
});
