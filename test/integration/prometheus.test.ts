import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../src/memory.js';
import { freeLoopbackPort } from '../../src/run/launch.js';
import { cli, cliAsync, FIXTURES, startGunicorn, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-prom-');

/** One PromQL query against Prometheus' HTTP API: the first sample's value, or undefined. */
async function query(port: number, promql: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const v = body.data?.result?.[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await f();
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms (last ${String(last)})`);
}

describe('watch --listen scraped by a real Prometheus', { timeout: 180_000 }, () => {
  it('sum of per-process PSS in Prometheus equals snapshot; a killed worker shows as a replacement', async (t) => {
    const srv = await startGunicorn({ workers: 3, app: 'app:app', cwd: join(FIXTURES, 'apps', 'grow') });
    t.after(() => srv.stop());
    const metricsPort = await freeLoopbackPort();
    const watcher = cliAsync(
      ['watch', '--pid', String(srv.server.pid), '--tree', '--interval', '0.25', '--listen', String(metricsPort)],
      t.signal,
    );
    watcher.stdout.resume();
    const promPort = await freeLoopbackPort();
    const config = join(tmp, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: memcompare\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${promPort}`, `--storage.tsdb.path=${join(tmp, 'data')}`],
      { stdio: 'ignore', signal: t.signal, killSignal: 'SIGKILL' },
    );
    prometheus.on('error', () => {});
    t.after(() => prometheus.kill('SIGKILL'));

    const inProm = await until(
      'sum(memcompare_process_pss_bytes)',
      () => query(promPort, 'sum(memcompare_process_pss_bytes)'),
      (v) => v > 0,
    );
    const snap = JSON.parse(cli(['snapshot', '--pid', String(srv.server.pid), '--tree', '--json']).stdout) as Snapshot;
    const diff = Math.abs(inProm - snap.totals.pssBytes) / snap.totals.pssBytes;
    assert.ok(diff <= 0.01, `Prometheus ${inProm} against snapshot ${snap.totals.pssBytes}: ${(diff * 100).toFixed(2)}%`);
    assert.equal(await query(promPort, 'memcompare_tree_workers'), 3);

    const worker = snap.processes.find((p) => p.ppid === srv.server.pid)?.pid as number;
    process.kill(worker, 'SIGKILL');
    await until(
      'a replacement',
      () => query(promPort, 'memcompare_tree_worker_replacements_total'),
      (v) => v >= 1,
    );
    // The departed pid's series are gone; the new worker's are there.
    await until(
      'the departed worker series gone',
      () => query(promPort, `count(memcompare_process_pss_bytes{pid="${worker}"}) or vector(0)`),
      (v) => v === 0,
    );
    assert.equal(await query(promPort, 'count(memcompare_process_pss_bytes{role="worker"})'), 3);
  });

  it('bad input: a taken address, a malformed one (exit 2, one line)', async () => {
    const port = await freeLoopbackPort();
    const holder = (await import('node:net')).createServer().listen(port, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    const taken = cli(['watch', '--pid', String(process.pid), '--listen', `127.0.0.1:${port}`, '--count', '1']);
    holder.close();
    assert.equal(taken.status, 2, taken.stderr);
    assert.match(taken.stderr, /--listen 127\.0\.0\.1:\d+: cannot listen \(EADDRINUSE\); choose a free port/);
    const bad = cli(['watch', '--pid', String(process.pid), '--listen', 'nine']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--listen "nine": give PORT or HOST:PORT/);
  });
});
