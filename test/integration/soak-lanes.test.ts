import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, cliAsync, isAlive, ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-soak-lanes-');
const LEAK = join(ROOT, 'scenarios', 'apps', 'leak');
const RACK = join(ROOT, 'scenarios', 'apps', 'rack-heavy');

/** Writes a scenario file and returns its path. */
function scenarioFile(name: string, scenario: object): string {
  const file = join(tmp, `${name}-scenario.json`);
  writeFileSync(file, JSON.stringify({ name, runs: 1, ...scenario }));
  return file;
}

/**
 * Sockets of the host that are not connections: TCP listeners, and Unix-domain sockets (a worker's stdout
 * and stderr are the socket memcompare captures output through). Read once: /proc/net/tcp holds every
 * TIME_WAIT row and takes tens of ms.
 */
function notConnections(): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[9]) out.add(f[9]);
    }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const inode = line.trim().split(/\s+/)[6];
    if (inode) out.add(inode);
  }
  return out;
}

/** The connections (sockets that are not in `notConn`) each process holds open now, by inode. */
function connectionsOf(pids: number[], notConn: Set<string>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const pid of pids) {
    const held: string[] = [];
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && !notConn.has(m[1] as string)) held.push(m[1] as string);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      continue;
    }
    out.set(pid, held);
  }
  return out;
}

/** Puma's cluster workers below a process: its descendants whose title says so. */
function pumaWorkers(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  const all: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(root);
  return all.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cluster worker');
    } catch {
      return false;
    }
  });
}

describe('the soak as lanes: one request per connection, each lane held to its rate', { timeout: 300_000 }, () => {
  it("uWSGI's http-socket, answers that end at the close: every request uWSGI logged counted (within 2%), growth fitted, --reload-on-rss advised", () => {
    // The leak app as it is: no Content-Length, so uWSGI's http-socket ends each answer by closing.
    const file = join(tmp, 'uwsgi.json');
    const scenario = scenarioFile('uwsgi-close', {
      app: LEAK,
      server: 'uwsgi',
      command: [
        'uwsgi',
        '--plugin',
        'python3',
        '--http-socket',
        '127.0.0.1:{port}',
        '--master',
        '--processes',
        '2',
        '--wsgi-file',
        'wsgi.py',
        '--die-on-term',
      ],
      workers: 2,
      variants: [{ name: 'close-delimited' }],
      warmup: { requests: 30, connections: 10, workerPidHeader: 'X-Worker-Pid' },
      soak: { durationSeconds: 4, connections: 4, intervalMs: 100 },
    });
    const r = cli(
      ['run', scenario, '--json', file, '--show-output', '--max-worker-uss', '40MiB', '--throughput-duration', '1', '-q', '--no-lock'],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    const run = doc.variants[0]?.runs[0];
    assert.ok(run?.soak && run.throughput);
    assert.equal(run.soak.client, 'lanes');
    assert.equal(run.throughput.client, 'lanes');
    assert.ok(run.soak.requests > 500, `${run.soak.requests} soak requests`);
    // uWSGI's request log: one line per request it answered ("GET / => generated 3 bytes in …").
    const logged = (r.stderr.match(/\] GET \/\S* => generated/g) ?? []).length;
    const w = run.warmup;
    const ours = w.requests + (w.topUp?.requests ?? 0) + (w.steady?.requests ?? 0) + run.soak.requests + run.throughput.requests;
    assert.ok(Math.abs(ours - logged) / logged <= 0.02, `memcompare counted ${ours}, uWSGI logged ${logged}`);
    assert.equal(run.soak.growth?.verdict, 'growth', JSON.stringify(run.soak.growth));
    assert.match(run.soak.advice?.memory?.setting ?? '', /^--reload-on-rss \d+/, JSON.stringify(run.soak.advice));
  });

  // Parking is a kept-alive connection a worker holds idle, waiting for a next request, until its persistent
  // timeout (Puma: 20 s): with one thread, the requests of every other connection then wait. With the
  // lanes' close, each connection lives as long as its one request. Puma may accept the next connection
  // while its thread answers the current one (its reactor takes a connection whose request has not arrived),
  // so a worker can hold two for a moment: what is checked is that none outlives its request.
  it('Puma -t 1:1: the rate-held lanes park no connection on a worker (each lives as long as its request)', async (t) => {
    const file = join(tmp, 'puma.json');
    const scenario = scenarioFile('puma-lanes', {
      app: RACK,
      server: 'puma',
      command: ['puma', '-w', '2', '-t', '1:1', '-b', 'tcp://127.0.0.1:{port}', 'config.ru'],
      workers: 2,
      variants: [{ name: 't1' }],
      warmup: { requests: 10, connections: 2, workerPidHeader: 'X-Worker-Pid' },
      soak: { durationSeconds: 3, connections: 4, rate: 100, intervalMs: 200 },
      throughput: false,
    });
    const child = cliAsync(['run', scenario, '--json', file, '--progress', '--no-lock'], t.signal);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let ended = false;
    void exited.then(() => {
      ended = true;
    });
    // Polled from the progress line that starts the soak to the one that ends it.
    const soaking = () => /soaking for/.test(stderr) && !/ soak: \d+ responses/.test(stderr);
    let most = 0;
    let samples = 0;
    // Each connection's first and last sighting on a worker.
    const life = new Map<string, [number, number]>();
    const seen = new Set<number>();
    // The workers are found once the soak starts (a walk of /proc takes tens of ms); each poll then reads
    // only their descriptors and /proc/net/tcp.
    let workers: number[] = [];
    let listening = new Set<string>();
    while (!ended) {
      if (soaking()) {
        if (workers.length < 2) {
          workers = pumaWorkers(child.pid as number);
          listening = notConnections();
        }
        for (const pid of workers) seen.add(pid);
        const now = performance.now();
        for (const held of connectionsOf(workers, listening).values()) {
          most = Math.max(most, held.length);
          for (const inode of held) life.set(inode, [life.get(inode)?.[0] ?? now, now]);
        }
        samples++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(await exited, 0, stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
    const soak = doc.variants[0]?.runs[0]?.soak;
    assert.ok(soak && soak.requests >= 250 && soak.requests <= 320, `${soak?.requests} requests at 100/s for 3 s`);
    assert.ok(samples >= 100, `${samples} polls during the soak`);
    assert.ok(seen.size >= 2, `workers seen: ${[...seen]}`);
    assert.ok(life.size >= 10, `${life.size} connections seen on the workers`);
    const longest = Math.max(...[...life.values()].map(([a, b]) => b - a));
    assert.ok(longest < 1000, `a connection stayed open on a worker for ${longest.toFixed(0)} ms`);
    assert.ok(most <= 4, `a worker held ${most} connections at once, more than the 4 lanes`);
    assert.deepEqual([...seen].filter(isAlive), []);
  });
});
