import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readArgv } from '../../src/proc/process.js';
import { listPids } from '../../src/proc/tree.js';
import { cli, FIXTURES, tempDir } from '../helpers.js';

const tmp = tempDir('memcompare-check-');

/** The gate's scenario: a light 2-worker app, lazy and preloaded; `allocMib` makes lazy's workers heavier. */
function scenarioFile(name: string, allocMib: number): string {
  const file = join(tmp, `${name}.json`);
  const doc = {
    name: 'alloc-gate',
    description: 'CI gate test: a light app, 2 workers',
    server: 'gunicorn',
    app: join(FIXTURES, 'apps', 'alloc'),
    command: ['gunicorn', '--bind=127.0.0.1:{port}', '--workers={workers}', 'app:application'],
    workers: 2,
    variants: [
      { name: 'lazy', env: { ALLOC_MIB: String(allocMib) } },
      { name: 'preload', args: ['--preload'] },
    ],
    warmup: { requests: 10, connections: 5, workerPidHeader: 'X-Worker-Pid' },
    runs: 3,
  };
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

function measure(name: string, allocMib: number): string {
  const out = join(tmp, `${name}-results.json`);
  const r = cli(['run', scenarioFile(name, allocMib), '--json', out, '-q']);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** Python processes on the host (the test starts none before its measurements). */
function pythonsOnHost(): string[] {
  return listPids()
    .map((pid) => [pid, readArgv(pid)] as const)
    .filter(([, argv]) => argv?.[0] !== undefined && /python3/.test(argv[0]))
    .map(([pid, argv]) => `${pid} ${argv?.join(' ')}`);
}

describe('memcompare check on real runs', { timeout: 300_000 }, () => {
  const unchanged: string[] = [];
  let regressed = '';
  before(async () => {
    // A gunicorn master's USS holds ~3.7 MiB of python3.11's pages that only it has touched: any other
    // python3.11 process that touches them makes them shared (measured 3,600 <-> 7,330 kB). The four
    // "unchanged" measurements must see the same host, so a Python process left by an earlier test
    // (still exiting) is waited out first; what was seen is printed, for a failure's diagnosis.
    const deadline = Date.now() + 60_000;
    let others = pythonsOnHost();
    if (others.length > 0) process.stderr.write(`check.test: waiting for Python processes to leave: ${others.join('; ')}\n`);
    while (others.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      others = pythonsOnHost();
    }
    if (others.length > 0) process.stderr.write(`check.test: measuring beside Python processes: ${others.join('; ')}\n`);
    for (let i = 0; i < 4; i++) unchanged.push(measure(`same${i}`, 0));
    regressed = measure('heavier', 10);
  });

  it('never fails unchanged code: no ordered pair of 4 separate runs is a regression', () => {
    let pairs = 0;
    let open = 0;
    for (const a of unchanged) {
      for (const b of unchanged) {
        if (a === b) continue;
        const r = cli(['check', a, '--baseline', b, '--metric', 'pss,uss,rss']);
        // Separate runs are compared unpaired (Welch): undecided (4) is allowed, a regression (1) is not.
        assert.ok(r.status === 0 || r.status === 4, `${a} vs ${b}:\n${r.stdout}${r.stderr}`);
        assert.match(
          r.stdout,
          r.status === 0
            ? /memcompare check: pass/
            : /memcompare check: inconclusive — [\s\S]*(runs per side would decide|per side would be needed)/,
        );
        assert.match(r.stdout, /unpaired \(Welch's t; separate\s+runs\),\s+3\s+runs\s+per\s+side/);
        if (r.status === 4) open++;
        pairs++;
      }
    }
    // RSS varies by hundreds of KiB between separate runs: with --metric pss,uss,rss most pairs stay undecided.
    assert.equal(pairs, 12, `${open} of 12 undecided`);
  });

  it('fails 10 MiB more per worker with exit 1, naming the variant and the metric', () => {
    const summary = join(tmp, 'summary.md');
    const stepSummary = join(tmp, 'step-summary.md');
    writeFileSync(stepSummary, '');
    const r = cli(['check', regressed, '--baseline', unchanged[0] as string, '--summary', summary], {
      env: { GITHUB_STEP_SUMMARY: stepSummary },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /memcompare check: FAIL — lazy PSS per worker \+\d+\.\d+ MiB/);
    assert.doesNotMatch(r.stdout, /FAIL.*preload/, 'the unchanged variant is not blamed');
    const md = readFileSync(summary, 'utf8');
    assert.match(md, /\| lazy \| PSS per worker \|.*\| REGRESSION \|/);
    assert.match(md, /\| preload \| PSS per worker \|.*\| (pass|INCONCLUSIVE) \|/);
    assert.equal(readFileSync(stepSummary, 'utf8').trim(), md.trim());
  });

  it('reports the reverse as an improvement, and passes', () => {
    const r = cli(['check', unchanged[0] as string, '--baseline', regressed]);
    assert.notEqual(r.status, 1, r.stdout);
    assert.match(r.stdout, /lazy .*PSS per worker.*improvement/);
  });

  it('refuses a truncated, garbled or mismatched baseline with exit 2', () => {
    const good = readFileSync(unchanged[0] as string, 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['truncated', good.slice(0, good.length / 2), /--baseline ".*truncated\.json": not valid JSON .*maybe truncated/],
      [
        'garbled',
        good.replace('"pssBytes": ', '"pssBytes": "x'),
        /--baseline ".*garbled\.json": not valid JSON|not a memcompare results document/,
      ],
      [
        'other-scenario',
        good.replace('"name": "alloc-gate"', '"name": "other"'),
        /--baseline: scenario "other" is not the current scenario "alloc-gate"/,
      ],
      [
        'other-variants',
        good.replaceAll('"name": "preload"', '"name": "eager"'),
        /--baseline: variants \["eager","lazy"\] do not match the current \["lazy","preload"\]/,
      ],
      [
        'other-schema',
        good.replace('"schemaVersion": 1', '"schemaVersion": 2'),
        /--baseline ".*other-schema\.json": schemaVersion 2 is not 1/,
      ],
      [
        'wrong-type',
        good.replace(/"pssBytes": \d+/, '"pssBytes": -5'),
        /not a memcompare results document \(\/variants\/0\/runs\/0\/processes\/0\/pssBytes must be >= 0\)/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const file = join(tmp, `${name}.json`);
      writeFileSync(file, text);
      const r = cli(['check', unchanged[1] as string, '--baseline', file]);
      assert.equal(r.status, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
    }
  });
});
