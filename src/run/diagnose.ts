import type { SkippedProcess } from '../memory.js';
import type { ForeignSharers } from '../proc/sharers.js';
import type { ProcessRecord, SettleRecord, SharedConnection, WarmupResult, Warning } from '../results/types.js';
import { WARNINGS } from '../results/warnings.js';

/** Everything a run's warnings are judged on. */
export interface RunFacts {
  variant: string;
  run: number;
  warmup: WarmupResult;
  /** Workers the warm-up was sent to. */
  warmedWorkers: number;
  settle: SettleRecord;
  processes: ProcessRecord[];
  skipped: SkippedProcess[];
  /** Workers the run expected (declared, from the command, or detected). */
  expectedWorkers: number;
  /** Workers that replaced, after the warm-up, workers that exited (warmed again before measuring). */
  replacedWorkers: number[];
  /** The server's pool grows and shrinks with load: how it is set, and the setting that fixes it at the measured size (the family's words). */
  poolNotFixed?: { how: string; fix(n: number): string } | undefined;
  /** Other processes on the host running the server's executable. */
  foreignSharers?: ForeignSharers | undefined;
  /** TCP connections the workers share with the master or each other, and where the family opens them per worker. */
  sharedConnections?: readonly SharedConnection[] | undefined;
  connectAfterFork?: string | undefined;
  /** The soak's account of its load, when there was one. */
  soak?: { requests: number; sent?: number; errors: number } | undefined;
}

type Kind = Warning['kind'];

/** A pure function of what a run found: its warnings, each with its remedy from the table. */
export function diagnose(f: RunFacts): Warning[] {
  const out: Warning[] = [];
  const w = (kind: Kind, message: string) => out.push({ kind, message, remedy: WARNINGS[kind].remedy, variant: f.variant, run: f.run });
  if (f.replacedWorkers.length > 0)
    w('worker-replaced', `workers ${f.replacedWorkers.join(', ')} replaced workers that exited after the warm-up`);
  const { warmup } = f;
  if (warmup.idleWorkers.length > 0) {
    w(
      'idle-worker',
      `${warmup.idleWorkers.length} of ${f.warmedWorkers} workers served no request during the warm-up (pids ${warmup.idleWorkers.join(', ')})`,
    );
  }
  if (warmup.pidHeaderNotWorkers)
    w(
      'pid-header-not-worker',
      `the worker pid header named ${warmup.pidHeaderNotWorkers.join(', ')}, no worker of this server; every worker was proved by ${warmup.trafficEvidence === 'connection' ? 'held connections' : 'its CPU time'} instead`,
    );
  const steady = warmup.steady;
  if (steady && !steady.reached && !steady.linear && steady.targetRequestsPerWorker !== undefined && !steady.bound) {
    w(
      'warmup-not-steady',
      `still growing ${(steady.lastBytesPerRequest / 1024).toFixed(1)} KiB a request at ${steady.requestsPerWorker.toFixed(0)} requests per worker, the depth every variant is measured at (steady: ${(steady.thresholdBytesPerRequest / 1024).toFixed(1)} KiB)`,
    );
  } else if (steady && !steady.reached && !steady.linear) {
    w(
      'warmup-not-steady',
      `the warm-up ended at its bound (${steady.bound ?? 'rounds'}: ${steady.rounds} rounds, ${steady.requestsPerWorker.toFixed(0)} requests per worker, ${(steady.durationMs / 1000).toFixed(0)} s) with the workers still growing ${(steady.lastBytesPerRequest / 1024).toFixed(1)} KiB per request (steady: ${(steady.thresholdBytesPerRequest / 1024).toFixed(1)} KiB)`,
    );
  }
  const serverErrors = Object.entries(warmup.statusCodes)
    .filter(([code]) => code.startsWith('5'))
    .reduce((n, [, k]) => n + k, 0);
  if (serverErrors > 0) w('warmup-errors', `${serverErrors} of ${warmup.requests} warm-up responses were server errors (5xx)`);
  // A client error is the app declining the request (a path it has not, a query it rejects, a login wall): the route's
  // work was not done, and the workers were warmed by an error page. Said as hey's status list would show it.
  const clientErrors = Object.entries(warmup.statusCodes).filter(([code]) => code.startsWith('4'));
  const declined = clientErrors.reduce((n, [, k]) => n + k, 0);
  if (declined > 0)
    w(
      'warmup-errors',
      `${declined} of ${warmup.requests} warm-up responses were client errors (${clientErrors.map(([code, k]) => `${code} ×${k}`).join(', ')}): those requests warmed an error page, not the route`,
    );
  if (warmup.errors > 0 || warmup.timeouts > 0)
    w('warmup-errors', `the warm-up had ${warmup.errors} errors and ${warmup.timeouts} timeouts`);
  // The load generator reads a response to its end: one whose body ends only when the server closes the
  // connection (no Content-Length, not chunked: a server that passes an app's response on as it is) never ends for it.
  const answered = Object.values(warmup.statusCodes).reduce((a, b) => a + b, 0);
  if (warmup.sent > 0 && answered < warmup.sent && warmup.errors + warmup.timeouts === 0)
    w(
      'warmup-errors',
      `${warmup.sent - answered} of ${warmup.sent} warm-up requests got no complete response: a response without Content-Length (or chunked encoding) is not read to its end; make the app or the server send one`,
    );
  const soak = f.soak;
  if (soak?.sent !== undefined && soak.sent > 0 && soak.requests < soak.sent / 2)
    w(
      'soak-errors',
      `${soak.sent - soak.requests} of ${soak.sent} soak requests got no complete response (${soak.errors} errors and timeouts): the growth and recycling figures rest on ${soak.requests}`,
    );
  if (!f.settle.settled) {
    w(
      'not-settled',
      `total PSS still moved ${f.settle.lastChangePercent.toFixed(2)}% between samples after ${(f.settle.durationMs / 1000).toFixed(1)} s`,
    );
  }
  const workers = f.processes.filter((p) => p.role === 'worker').length;
  if (workers !== f.expectedWorkers) w('worker-count', `${workers} workers measured, ${f.expectedWorkers} expected`);
  if (f.skipped.length > 0) {
    w(
      'skipped-processes',
      `${f.skipped.length} processes of the tree could not be read: ${f.skipped.map((s) => `${s.pid} (${s.reason})`).join(', ')}`,
    );
  }
  if (f.poolNotFixed)
    w(
      'pool-not-fixed',
      `${f.poolNotFixed.how}: the pool's size moves with load; ${workers} children were measured as they were (fix it with ${f.poolNotFixed.fix(workers)})`,
    );
  for (const c of f.sharedConnections ?? []) {
    const workers = c.holders.filter((h) => h.role === 'worker').length;
    const master = c.holders.some((h) => h.role === 'master');
    out.push({
      kind: 'inherited-connection',
      message: `${workers} workers${master ? ' and the master' : ''} hold one TCP connection to ${c.peer} (${c.state}, from ${c.local}): it was opened before the fork, and their requests interleave on it`,
      remedy: f.connectAfterFork ? `open it in each worker after the fork: ${f.connectAfterFork}` : WARNINGS['inherited-connection'].remedy,
      variant: f.variant,
      run: f.run,
    });
  }
  const sh = f.foreignSharers;
  if (sh) {
    w(
      'foreign-sharers',
      `${sh.pids.length} other processes on the host run ${sh.exe} (pids ${sh.pids.slice(0, 8).join(', ')}${sh.pids.length > 8 ? ', …' : ''}); they share file pages with the server and lower its PSS${
        sh.takes
          ? ` (by ${(sh.takes.pssBytes / 1048576).toFixed(2)} MiB now${sh.takes.method === 'estimate' ? ', estimated' : ''}; stop them for figures that do not depend on them)`
          : ''
      }`,
    );
  }
  return out;
}
