import { compareVariants, summarizeVariant } from '../src/results/aggregate.js';
import type { ProcessRecord, ResultsDocument, RunRecord, VariantResult } from '../src/results/types.js';

const MIB = 1048576;

function proc(pid: number, role: ProcessRecord['role'], ussMib: number, pssMib: number, rssMib: number): ProcessRecord {
  return {
    pid,
    ppid: role === 'master' ? 1 : 100,
    role,
    user: 'root',
    command: 'gunicorn --bind=127.0.0.1:8000 --workers=2 app:app',
    ussBytes: Math.round(ussMib * MIB),
    pssBytes: Math.round(pssMib * MIB),
    rssBytes: Math.round(rssMib * MIB),
    swapBytes: 0,
    swapPssBytes: 0,
    pssAnonBytes: Math.round(ussMib * MIB),
    pssFileBytes: Math.round((pssMib - ussMib) * MIB),
    vssBytes: 500 * MIB,
  };
}

function run(index: number, master: [number, number, number], worker: [number, number, number], workerDelta = 0): RunRecord {
  const processes = [
    proc(100 * index, 'master', ...master),
    proc(100 * index + 1, 'worker', ...worker),
    proc(100 * index + 2, 'worker', worker[0] + workerDelta, worker[1] + workerDelta, worker[2]),
  ];
  const sum = (f: (p: ProcessRecord) => number) => processes.reduce((s, p) => s + f(p), 0);
  return {
    index,
    startedAt: '2026-11-27T00:00:00.000Z',
    port: 8000,
    masterPid: 100 * index,
    bootMs: 1000,
    wallMs: 2000,
    processes,
    totals: {
      processes: 3,
      ussBytes: sum((p) => p.ussBytes),
      pssBytes: sum((p) => p.pssBytes),
      rssBytes: sum((p) => p.rssBytes),
      swapBytes: 0,
      swapPssBytes: 0,
      pssAnonBytes: sum((p) => p.pssAnonBytes ?? 0),
      pssFileBytes: sum((p) => p.pssFileBytes ?? 0),
      vssBytes: sum((p) => p.vssBytes),
    },
    skipped: [],
    warmup: {
      url: 'http://127.0.0.1:8000',
      requests: 30,
      sent: 30,
      connections: 30,
      durationMs: 50,
      requestsPerSecond: 600,
      statusCodes: { '204': 30 },
      errors: 0,
      timeouts: 0,
      latencyMs: { min: 1, mean: 5, p10: 2, p25: 3, p50: 5, p75: 6, p90: 8, p97_5: 9, p99: 9, max: 10 },
      requestsPerWorker: { [String(100 * index + 1)]: 20, [String(100 * index + 2)]: 10 },
      trafficEvidence: 'pid-header',
      idleWorkers: [],
    },
    settle: { settled: true, samples: 4, durationMs: 150, totalPssHistoryBytes: [1, 1, 1, 1], lastChangePercent: 0 },
    warnings: [],
  };
}

/**
 * A hand-built results document: two variants of a 2-worker server, `runs` runs each.
 * `extraWorkerMib` makes every worker of the second variant heavier (a regression).
 */
export function makeResults(o: { runs?: number; jitterMib?: number; extraWorkerMib?: number; scenario?: string } = {}): ResultsDocument {
  const runs = o.runs ?? 3;
  const j = o.jitterMib ?? 0.05;
  const x = o.extraWorkerMib ?? 0;
  const variants: VariantResult[] = [
    { name: 'lazy', command: ['gunicorn', 'app:app'], env: {}, runs: [] },
    { name: 'preload', command: ['gunicorn', '--preload', 'app:app'], env: {}, runs: [] },
  ];
  for (let i = 1; i <= runs; i++) {
    const d = ((i % 3) - 1) * j;
    variants[0]?.runs.push(run(i, [14 + d, 16 + d, 28], [40 + d, 45 + d, 66]));
    variants[1]?.runs.push(run(i, [17 + d, 26 + d, 56], [4 + d + x, 12 + d + x, 52 + x]));
  }
  const summaries = variants.map(summarizeVariant);
  return {
    schemaVersion: 1,
    tool: { name: 'memcompare', version: '0.1.0' },
    startedAt: '2026-11-27T00:00:00.000Z',
    finishedAt: '2026-11-27T00:01:00.000Z',
    complete: true,
    scenario: {
      name: o.scenario ?? 'fixture',
      description: 'A hand-built results document for tests.',
      server: 'gunicorn',
      workers: 2,
      runs,
      warmup: { requests: 30, connections: 30, path: '/' },
      settle: { intervalMs: 50, tolerancePercent: 0.1, stableSamples: 3, timeoutMs: 20000 },
    },
    host: {
      os: 'Debian GNU/Linux 12',
      kernel: '6.18',
      cpu: 'Test CPU',
      cores: 2,
      memoryBytes: 24 * 1073741824,
      node: 'v20.20.2',
      server: 'gunicorn (version 20.1.0)',
    },
    variants,
    summary: { variants: summaries, comparisons: compareVariants(summaries) },
    warnings: [
      { kind: 'idle-worker', message: '1 of 2 workers served no request', remedy: 'raise warmup.requests', variant: 'lazy', run: 1 },
    ],
  };
}
