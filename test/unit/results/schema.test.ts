import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resultsSchema, schemaProblem } from '../../../src/results/file.js';
import type { ResultsDocument } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

/** Every property required, all the way down: a document of this type holds every field the types declare. */
type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<NonNullable<T[K]>> }
    : T;

/** A results document with every optional field present; the compiler refuses it if the types gain a field. */
function fullDocument(): DeepRequired<ResultsDocument> {
  const doc = makeResults({ runs: 2 });
  for (const v of doc.variants) {
    for (const r of v.runs) {
      r.workerCount = { count: 2, source: 'command' };
      const a = { pssBytes: 1, ussBytes: 1, rssBytes: 1, swapBytes: 0 };
      const share = { name: '[heap]', master: a, workersSum: a, workerMean: a };
      r.mappings = { readMs: 3, groups: [share], top: [share] };
      r.soak = {
        durationMs: 1000,
        requests: 10,
        sent: 10,
        client: 'lanes',
        errors: 0,
        statusCodes: { '204': 10 },
        requestsPerSecond: 10,
        rate: 10,
        peakTotalPssBytes: 1,
        samples: 4,
        intervalMs: 250,
        achievedIntervalMs: 250,
        samplerCpuMsPerSample: 1,
        samplerCpuPercent: 0.4,
        maxCpuPercent: 10,
        workers: [
          {
            pid: 2,
            sharedStartBytes: 2,
            sharedEndBytes: 1,
            sharedLostBytes: 1,
            ussStartBytes: 1,
            ussEndBytes: 2,
            cowEfficiencyPercent: 50,
            mold: true,
          },
        ],
        timeline: {
          tMs: [0],
          requests: [0],
          processes: [{ pid: 2, role: 'worker', pssBytes: [1], ussBytes: [1], rssBytes: [1], sharedBytes: [null], served: [3], ppid: 1 }],
        },
        refork: {
          tMs: 2500,
          workers: 2,
          beforeBytes: 3,
          afterBytes: 1,
          endBytes: 2,
          equalDepth: [{ requests: 100, oldUssBytes: 3, newUssBytes: 1, savingBytesPerWorker: 2 }],
          stopsPayingAfter: null,
          schedule: 'reforks once',
          warmedRequests: 0,
          depthRequests: 0,
          reachedDepth: false,
          oldWorkerUssBytes: 0,
          newWorkerUssBytes: 0,
        },
        cowEfficiency: { parent: 'worker', points: [{ generation: 1, requests: 100, percent: 90 }] },
        routes: {
          peakReadEveryMs: 5,
          peakUssBytes: { '2': 3 },
          byRoute: [
            {
              path: '/report',
              method: 'GET',
              weight: 1,
              segments: 3,
              requests: 900,
              bytesPerRequest: 16384,
              r2: 0.99,
              interval: [16000, 16800],
              transientPeakBytes: 0,
              transientPeakPid: null,
            },
          ],
        },
        growth: {
          verdict: 'growth',
          bytesPerRequest: 10317,
          r2: 0.999,
          requestsPerWorker: 500,
          workers: [{ pid: 2, requests: 500, ussFirstBytes: 1, ussLastBytes: 2, bytesPerRequest: 10317, r2: 0.999, plateau: false }],
        },
        replacements: [
          {
            tMs: 250,
            oldPid: 2,
            newPid: 3,
            oldRequests: 100,
            oldLastUssBytes: 2,
            oldExitPeakUssBytes: 3,
            newUssAtBirthBytes: 1,
            newUssAfterBytes: 1,
            wholeAgainMs: 250,
            cause: 'recycled',
          },
        ],
        exitPeakUssBytes: { '2': 3 },
        exitCopy: { bytes: 1, source: 'measured', count: 1 },
        advice: {
          limitBytes: 100,
          freshUssBytes: 10,
          bytesPerRequest: 1,
          exitCopyBytes: 1,
          exitCopySource: 'measured',
          requests: 90,
          setting: '--max-requests 81 --max-requests-jitter 9',
          text: 'set it',
          remedy: { text: 'end it', exitCopyBytes: 0, exits: 2 },
          memory: { thresholdBytes: 120, freshRssBytes: 30, rssBytesPerRequest: 1, setting: '--reload-on-rss 1', text: 'by RSS' },
        },
      };
      r.reload = {
        signal: 'SIGHUP',
        file: 'wsgi.py',
        path: '/',
        before: 'v1',
        after: 'v1',
        stale: true,
        workersReplaced: 2,
        masterReplaced: false,
        reloadMs: 900,
        totalPssBeforeBytes: 1,
        totalPssAfterBytes: 1,
      };
      r.refork = {
        tMs: 300,
        workers: 3,
        beforeBytes: 3,
        afterBytes: 1,
        endBytes: 2,
        schedule: 'once',
        warmedRequests: 120,
        depthRequests: 40,
        reachedDepth: true,
        oldWorkerUssBytes: 2,
        newWorkerUssBytes: 1,
      };
      r.container = {
        version: 1,
        path: '/docker/c1',
        currentBytes: 10,
        peakBytes: 12,
        limitBytes: 20,
        anonBytes: 5,
        fileBytes: 4,
        shmemBytes: 0,
        kernelBytes: 1,
        sockBytes: 0,
        reclaimableBytes: 3,
        oomKills: 0,
        ooms: 0,
        exclusive: true,
        otherProcesses: 0,
        headroomBytes: 8,
      };
      r.warmup.topUp = { rounds: 1, requests: 30, statusCodes: { '200': 30 }, errors: 0 };
      r.warmup.pidHeaderNotWorkers = ['100'];
      r.warmup.steady = {
        rounds: 3,
        requests: 90,
        requestsPerWorker: 60,
        durationMs: 1200,
        lastBytesPerRequest: 1,
        thresholdBytesPerRequest: 1024,
        reached: true,
        linear: false,
        bound: 'time',
        inFlight: 20,
        targetRequestsPerWorker: 60,
        replacedDepth: 15,
        warmedOn: 'while-cheap',
        steadyAtRequestsPerWorker: 12,
      };
      r.observer = { method: 'estimate', reason: 'not root', observerPids: [9], pssBytes: 2, ussBytes: 1 };
      r.sharedConnections = [
        {
          inode: 5,
          local: '127.0.0.1:40000',
          peer: '127.0.0.1:6379',
          state: 'ESTABLISHED',
          holders: [
            { pid: 1, role: 'master' },
            { pid: 2, role: 'worker' },
          ],
        },
      ];
      for (const p of r.processes) Object.assign(p, { observerPssBytes: 1, observerUssBytes: 0, privateDirtyBytes: 2 });
      r.warnings.push({ kind: 'noisy', message: 'm', remedy: 'r', variant: v.name, run: r.index });
    }
  }
  doc.warnings.push({ kind: 'noisy', message: 'm', remedy: 'r', variant: 'lazy', run: 1 });
  doc.incompleteReason = 'interrupted';
  doc.verification = [
    {
      variant: 'lazy',
      round: 1,
      setting: '--max-requests 90 --max-requests-jitter 10',
      args: ['--max-requests', '90'],
      limitBytes: 100,
      workerPeakUssBytes: [80],
      replacements: 2,
      within: true,
      exitCopy: { bytes: 8, source: 'measured', count: 2 },
      byRss: { thresholdBytes: 120, recycledAtBirth: 0 },
      remedy: { text: 'end it', exitCopyBytes: null, exits: 0, withoutBytes: 8 },
    },
  ];
  doc.host.software = { interpreter: 'Python 3.11.2', packages: { gunicorn: '20.1.0' } };
  for (const v of doc.variants) {
    v.revision = { role: 'head', ref: 'working tree', commit: 'a'.repeat(40), dirty: false };
    v.point = { variant: v.name, workers: 2 };
    v.server = 'gunicorn';
    v.imports = {
      method: 'python',
      reason: 'none',
      boot: { masterPid: 1, processes: 3, probeMs: 400 },
      master: { totalBytes: 2, imports: 1, tree: [{ module: 'numpy', inclusiveBytes: 2, exclusiveBytes: 1, ms: 3, children: [] }] },
      afterFork: [{ module: 'matplotlib.pyplot', bytesPerWorker: 3, workers: [2, 3] }],
      workers: 2,
      afterForkBytesPerWorker: 3,
      predictedSavingBytes: 3,
      preloaded: true,
      predictedPreloadSavingBytes: 3,
      giveBack: { fraction: 0.25, from: 'preload', beforeBytes: 4 },
      applied: {
        variant: `${v.name}+early-imports`,
        modules: ['matplotlib.pyplot'],
        predictedSavingBytes: 3,
        measuredSavingBytes: 3,
        failed: [{ module: 'app.views', error: "ModuleNotFoundError: No module named 'app'" }],
      },
    };
    v.earlyImports = {
      from: v.name,
      modules: ['matplotlib.pyplot'],
      imported: ['matplotlib.pyplot'],
      failed: [{ module: 'x', error: 'y' }],
    };
  }
  const point = {
    workers: 2,
    totalPssBytes: [1],
    totalUssBytes: [1],
    totalRssBytes: [1],
    workerPssBytes: [1],
    workerRssBytes: [1],
    residualPercent: 0,
  };
  doc.sweep = {
    workerCounts: [2],
    variants: [
      {
        name: 'lazy',
        fixedBytes: 1,
        perWorkerBytes: 1,
        r2: 1,
        uss: { fixedBytes: 1, perWorkerBytes: 1, r2: 1 },
        points: [point],
        budgetBytes: 10,
        maxWorkers: 9,
        maxWorkersByRssRule: 1,
        maxWorkersByPssRule: 2,
        transientPeak: { bytes: 4, path: '/export' },
      },
    ],
  };
  doc.scenario.file = '/tmp/s.json';
  doc.scenario.warmup.workerPidHeader = 'X-Worker-Pid';
  doc.scenario.soak = { durationSeconds: 1, connections: 2, rate: 10, intervalMs: 250, maxCpuPercent: 10 };
  for (const v of doc.summary.variants) v.peakTotalPssBytes = { median: 1, min: 1, max: 1, spreadPercent: 0 };
  const one = { median: 1, min: 1, max: 1, spreadPercent: 0 };
  doc.scenario.throughput = { durationSeconds: 3, connections: 8 };
  for (const v of doc.variants) {
    for (const r of v.runs) {
      r.throughput = {
        client: 'autocannon',
        keepAlive: true,
        connections: 8,
        durationMs: 3000,
        requests: 3000,
        sent: 3008,
        requestsPerSecond: 1000,
        errors: 0,
        timeouts: 0,
        statusCodes: { 200: 3000 },
        latencyMs: { mean: 8, p50: 7, p90: 9, p99: 12, max: 20 },
        loadCpuPercent: 30,
        cut: false,
      };
    }
  }
  for (const v of doc.summary.variants) v.throughput = { runs: 1, requestsPerSecond: one, latencyMs: { p50: one, p90: one, p99: one } };
  doc.summary.throughput = [{ baseline: 'a', variant: 'b', pairs: 3, ratio: 1, low: 0.9, high: 1.1, p50Ratio: 1, p99Ratio: 1 }];
  return doc as unknown as DeepRequired<ResultsDocument>;
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; required?: string[] };

/** Walks the schema and a document together; returns the paths where one has a property the other lacks. */
function disagreements(schema: Schema, value: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(value)) {
    if (schema.items) for (const [i, item] of value.entries()) disagreements(schema.items, item, `${path}[${i}]`, out);
    return out;
  }
  if (value === null || typeof value !== 'object' || !schema.properties) return out;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!(key in schema.properties)) out.push(`${path}.${key}: in the types, not in the schema`);
  for (const [key, sub] of Object.entries(schema.properties)) {
    if (!(key in obj)) out.push(`${path}.${key}: in the schema, not in the types`);
    else disagreements(sub, obj[key], `${path}.${key}`, out);
  }
  return out;
}

describe('the results types and the JSON Schema agree', () => {
  it('a document with every field of the types is valid against the schema', () => {
    assert.equal(schemaProblem(fullDocument()), undefined);
  });
  it('every property of the types is in the schema, and every property of the schema in the types', () => {
    const found = disagreements(resultsSchema() as Schema, fullDocument(), '(document)', []).map((d) => d.replace(/\[\d+\]/g, '[]'));
    assert.deepEqual([...new Set(found)], []);
  });
});
