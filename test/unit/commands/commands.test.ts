import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hostDifferences } from '../../../src/check/host-change.js';
import { parseSize } from '../../../src/commands/check.js';
import { adhocScenario, type RunCommandOptions } from '../../../src/commands/run.js';
import { parseCounts } from '../../../src/commands/sweep.js';
import { MemcompareError } from '../../../src/errors.js';
import { containerLine } from '../../../src/render/container.js';
import type { HostInfo, ProcessRecord } from '../../../src/results/types.js';
import { diagnose, type RunFacts } from '../../../src/run/diagnose.js';
import { cli, tempDir } from '../../helpers.js';
import { makeResults } from '../../results-fixture.js';

const base = tempDir('memcompare-limit-');

const run = (o: Partial<RunCommandOptions>): RunCommandOptions =>
  ({ command: [], name: [], json: undefined, markdown: undefined, scenario: undefined, ...o }) as RunCommandOptions;

describe('command options, before anything boots', () => {
  it('parseSize: units, fractions, and a one-line error naming the flag', () => {
    assert.equal(parseSize('2MiB', '--floor'), 2 * 1048576);
    assert.equal(parseSize('512K', '--floor'), 512 * 1024);
    assert.equal(parseSize('1.5 GiB', '--budget'), 1.5 * 1073741824);
    assert.equal(parseSize('1048576', '--floor'), 1048576);
    assert.throws(() => parseSize('2 apples', '--budget'), /--budget "2 apples": give a size such as 2MiB/);
  });
  it('sweep counts: increasing whole numbers from 1 to 256, at least two', () => {
    assert.deepEqual(parseCounts('1,2,4,8'), [1, 2, 4, 8]);
    assert.throws(() => parseCounts('4,2'), /increasing/);
    assert.throws(() => parseCounts('0,1'), /from 1 to 256/);
    assert.throws(() => parseCounts('4'), /at least two/);
  });
  it('ad hoc scenarios: names per command, {port} required, counts read or detected', () => {
    const { scenario, family } = adhocScenario(
      run({
        command: ['gunicorn -b 127.0.0.1:{port} -w 3 app:app', 'gunicorn -b 127.0.0.1:{port} -w 3 --preload app:app'],
        name: ['lazy', 'preload'],
      }),
    );
    assert.equal(family.name, 'gunicorn');
    assert.deepEqual(
      scenario.variants.map((v) => v.name),
      ['lazy', 'preload'],
    );
    assert.equal(scenario.detectWorkers, true, 'no --workers and no {workers}: read from each command');
    assert.throws(() => adhocScenario(run({ command: ['gunicorn app:app'] })), /add \{port\}/);
    assert.throws(() => adhocScenario(run({ command: ['a {port}', 'b {port}'], name: ['x'] })), /one --name per --command/);
    assert.throws(() => adhocScenario(run({ command: ['a {port}', 'b {port}'], name: ['x', 'x'] })), /names must differ/);
    assert.throws(
      () => adhocScenario(run({ command: ['a {port}'], workers: 0 })),
      (e: unknown) => e instanceof MemcompareError && /--workers 0: pass a whole number from 1 to 256/.test(e.message),
    );
  });
});

describe('pure judgments', () => {
  const host: HostInfo = {
    os: 'Debian 12',
    kernel: '6.1.0-28-amd64',
    cpu: 'AMD EPYC',
    cores: 2,
    memoryBytes: 1,
    node: 'v20',
    server: 'gunicorn 20.1.0',
  };
  it('hostDifferences: what blocks a comparison and what is only noted', () => {
    assert.deepEqual(hostDifferences(host, host), []);
    const d = hostDifferences(host, { ...host, kernel: '6.1.0-30-amd64', cpu: 'Intel Xeon', cores: 4 });
    assert.deepEqual(
      d.map((x) => [x.field, x.blocking]),
      [
        ['cores', true],
        ['kernel build', false],
        ['cpu', false],
      ],
    );
    const k = hostDifferences(host, { ...host, kernel: '6.8.0-1-amd64' });
    assert.deepEqual(
      k.map((x) => [x.field, x.baseline, x.current, x.blocking]),
      [['kernel', '6.1', '6.8', true]],
    );
  });

  it('diagnose: each warning from the facts that cause it, with its remedy', () => {
    const worker = (pid: number) => ({ pid, ppid: 1, role: 'worker', pssBytes: 1 }) as ProcessRecord;
    const facts: RunFacts = {
      variant: 'v',
      run: 1,
      warmup: { errors: 0, timeouts: 0, idleWorkers: [], statusCodes: { '200': 30 }, requests: 30 } as unknown as RunFacts['warmup'],
      warmedWorkers: 2,
      settle: { settled: true } as RunFacts['settle'],
      processes: [worker(11), worker(12)],
      skipped: [],
      expectedWorkers: 2,
      replacedWorkers: [],
    };
    assert.deepEqual(diagnose(facts), []);
    const kinds = (f: Partial<RunFacts>) => diagnose({ ...facts, ...f }).map((w) => w.kind);
    assert.deepEqual(kinds({ replacedWorkers: [13] }), ['worker-replaced']);
    assert.deepEqual(kinds({ settle: { settled: false, lastChangePercent: 0.4, durationMs: 20_000 } as RunFacts['settle'] }), [
      'not-settled',
    ]);
    assert.deepEqual(kinds({ warmup: { ...facts.warmup, statusCodes: { '200': 28, '502': 2 } } }), ['warmup-errors']);
    // A route the app declines (graphite-web answered 400 to a render of an unknown function): said, with the codes.
    const declined = diagnose({ ...facts, warmup: { ...facts.warmup, requests: 45, statusCodes: { '200': 15, '400': 30 } } });
    assert.deepEqual(
      declined.map((x) => x.kind),
      ['warmup-errors'],
    );
    assert.match(declined[0]?.message ?? '', /^30 of 45 warm-up responses were client errors \(400 ×30\)/);
    assert.deepEqual(kinds({ processes: [worker(11)] }), ['worker-count']);
    assert.deepEqual(kinds({ warmup: { ...facts.warmup, idleWorkers: [12] } }), ['idle-worker']);
    assert.deepEqual(kinds({ foreignSharers: { exe: '/usr/bin/python3.11', pids: [99] } }), ['foreign-sharers']);
    for (const w of diagnose({ ...facts, replacedWorkers: [13] })) assert.ok(w.remedy.length > 20, w.remedy);
  });
});

describe('the container beside the summed PSS', () => {
  const container = (limitBytes: number | null, peakBytes: number, exclusive = true) => ({
    version: 2 as const,
    path: '/app',
    currentBytes: peakBytes,
    peakBytes,
    limitBytes,
    anonBytes: null,
    fileBytes: 10 * 1048576,
    shmemBytes: null,
    kernelBytes: null,
    sockBytes: null,
    reclaimableBytes: 8 * 1048576,
    oomKills: 0,
    ooms: 0,
    exclusive,
    otherProcesses: exclusive ? 0 : 3,
    headroomBytes: limitBytes === null ? null : limitBytes - peakBytes,
  });
  it('check --max-peak-fraction fails a run whose peak passes the fraction of its limit, and says when no limit applies', () => {
    const dir = mkdtempSync(join(base, 'limit-'));
    // Little jitter: a file compared unpaired with itself then passes rather than coming out undecided.
    const doc = makeResults({ jitterMib: 0.01 });
    for (const v of doc.variants) for (const r of v.runs) r.container = container(200 * 1048576, 180 * 1048576);
    writeFileSync(join(dir, 'r.json'), JSON.stringify(doc));
    const over = cli(['check', join(dir, 'r.json'), '--baseline', join(dir, 'r.json'), '--max-peak-fraction', '0.8']);
    assert.equal(over.status, 1, over.stderr);
    assert.match(over.stdout, /FAIL — lazy run 1: peak 180\.0 MiB is 90% of the container's limit 200\.0 MiB \(at most 80% asked\)/);
    assert.equal(cli(['check', join(dir, 'r.json'), '--baseline', join(dir, 'r.json'), '--max-peak-fraction', '0.95']).status, 0);
    const none = makeResults({ jitterMib: 0.01 });
    writeFileSync(join(dir, 'n.json'), JSON.stringify(none));
    const na = cli(['check', join(dir, 'n.json'), '--baseline', join(dir, 'n.json'), '--max-peak-fraction', '0.8']);
    assert.equal(na.status, 0);
    assert.match(na.stdout, /no run had a container memory limit; not applied/);
    assert.equal(cli(['check', join(dir, 'n.json'), '--baseline', join(dir, 'n.json'), '--max-peak-fraction', '2']).status, 2);
  });
  it('a cgroup shared with other processes attributes nothing; an exclusive one gives the share of its usage', () => {
    assert.match(
      containerLine('v', container(null, 100 * 1048576, false), 50 * 1048576),
      /shared with 3 processes outside the server's tree: nothing in it is attributed/,
    );
    assert.match(
      containerLine('v', container(200 * 1048576, 100 * 1048576), 50 * 1048576),
      /limit 200\.0 MiB, headroom at the peak 100\.0 MiB.*summed PSS 50\.0 MiB is 50% of the cgroup's usage/,
    );
  });
});
