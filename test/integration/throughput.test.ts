import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readResults } from '../../src/results/file.js';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, isAlive, ROOT, startGunicorn, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-throughput-');
const APP = join(ROOT, 'scenarios', 'apps', 'cpu-io');
// The view that waits 20 ms: what a server can serve is set by its threads, not by how the host shares two
// cores between server and client. On the CPU-bound view the server itself moves by a third from one boot to
// the next, whichever client drives it (hey and autocannon alike): one gthread worker of 4 threads serves
// ~480 or ~720 requests/s by how its threads hand the GIL over, two single-threaded gthread workers ~550 or
// ~1,050 by whether one of them took every kept-alive connection (docs/method.md, the throughput phase).
const PATH = '/io';
// Rounds, each on fresh servers; each tool's median round.
const SECONDS = 2;
const ROUNDS = 3;
const CONNECTIONS = 8;

/** hey's closed loop on a server started as the scenario's variant: requests/s and p50 (ms). */
async function heyOn(workers: number, workerArgs: string[]): Promise<{ rps: number; p50: number }> {
  const s = await startGunicorn({ workers, workerArgs, cwd: APP });
  try {
    const { stdout } = await promisify(execFile)(
      'hey',
      ['-z', `${SECONDS}s`, '-c', String(CONNECTIONS), `http://127.0.0.1:${s.port}${PATH}`],
      {
        timeout: 30_000,
      },
    );
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    const p50 = Number(/50% in ([\d.]+) secs/.exec(stdout)?.[1]) * 1000;
    assert.ok(rps > 0 && p50 > 0, stdout);
    return { rps, p50 };
  } finally {
    await s.stop();
  }
}

const VARIANTS = [
  // A connection per request (memcompare's own client): a sync worker closes every connection.
  { name: 'processes-2', workers: 2, args: ['--worker-class=sync'] },
  // Kept-alive connections (autocannon): one worker of 4 threads.
  { name: 'threads-1x4', workers: 1, args: ['--worker-class=gthread', '--threads=4'] },
];

const SCENARIO = join(tmp, 'pvt.json');
writeFileSync(
  SCENARIO,
  JSON.stringify({
    name: 'pvt',
    server: 'gunicorn',
    app: APP,
    command: ['gunicorn', '--bind=127.0.0.1:{port}', 'wsgi:application'],
    variants: VARIANTS.map((v) => ({ name: v.name, args: [`--workers=${v.workers}`, ...v.args] })),
    warmup: { path: PATH, workerPidHeader: 'X-Worker-Pid' },
  }),
);

describe('the throughput phase against hey, on the same machine, interleaved', { timeout: 300_000 }, () => {
  it("two processes against four threads on a view that waits, round by round: the requests/s ratio within 15% of hey's, each median latency within 2x", async (t) => {
    // Round by round: one memcompare run of both variants, then hey on both. The host drifts between
    // blocks (hey against itself read 0.464 and 0.549 one block after another), not within a round.
    const docs: ResultsDocument[] = [];
    const hey: Record<string, { rps: number; p50: number }[]> = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
    let stdout = '';
    for (let round = 0; round < ROUNDS; round++) {
      const file = join(tmp, `pvt-${round}.json`);
      const r = cli(
        [
          'run',
          SCENARIO,
          '--runs',
          '1',
          '--throughput-duration',
          String(SECONDS),
          '--throughput-connections',
          String(CONNECTIONS),
          '--json',
          file,
        ],
        { timeoutMs: 120_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      stdout = r.stdout;
      docs.push(readResults(file));
      for (const v of VARIANTS) hey[v.name]?.push(await heyOn(v.workers, v.args));
    }
    // Both clients: sync workers close every connection (lanes), gthread keeps them (autocannon).
    const client = (name: string) => docs[0]?.variants.find((v) => v.name === name)?.runs[0]?.throughput?.client;
    assert.equal(client('processes-2'), 'lanes');
    assert.equal(client('threads-1x4'), 'autocannon');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const rpsOf = (doc: ResultsDocument, name: string) =>
      doc.variants.find((v) => v.name === name)?.runs[0]?.throughput?.requestsPerSecond ?? Number.NaN;
    const rounds = docs.map((doc, i) => {
      const ours = rpsOf(doc, 'threads-1x4') / rpsOf(doc, 'processes-2');
      const theirs = (hey['threads-1x4']?.[i]?.rps ?? Number.NaN) / (hey['processes-2']?.[i]?.rps ?? Number.NaN);
      return { ours, theirs };
    });
    // Each tool's median round (a boot in the gthread's fast mode is one round, not a shift of the mean).
    const ours = median(rounds.map((x) => x.ours));
    const theirs = median(rounds.map((x) => x.theirs));
    const off = ours / theirs - 1;
    const text = `requests/s ratio ${ours.toFixed(3)} against hey's ${theirs.toFixed(3)} (${(off * 100).toFixed(1)}% apart); by round, memcompare/hey: ${rounds.map((x) => `${x.ours.toFixed(3)}/${x.theirs.toFixed(3)}`).join(', ')}`;
    t.diagnostic(text);
    assert.ok(Math.abs(off) <= 0.15, text);
    for (const v of VARIANTS) {
      const p50 = median(docs.map((doc) => doc.summary.variants.find((s) => s.name === v.name)?.throughput?.latencyMs.p50.median ?? 0));
      const theirs = median((hey[v.name] ?? []).map((h) => h.p50));
      assert.ok(
        p50 > 0 && p50 / theirs <= 2 && theirs / p50 <= 2,
        `${v.name}: p50 ${p50.toFixed(2)} ms against hey's ${theirs.toFixed(2)} ms`,
      );
    }
    assert.match(stdout, /Requests\/s/);
    assert.match(stdout, /Verdict: threads-1x4 against processes-2: saves .*requests\/s/);
    const pids = docs.flatMap((doc) => doc.variants.flatMap((v) => v.runs.flatMap((run) => run.processes.map((p) => p.pid))));
    assert.deepEqual(pids.filter(isAlive), []);
  });
});
