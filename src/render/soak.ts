import { medianRunIndex } from '../results/aggregate.js';
import type { CowEfficiencyRecord, ReforkRecord, ResultsDocument, RouteGrowth, RunRecord, SoakRecord } from '../results/types.js';
import { mib } from './units.js';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** The soaked runs shown: each variant's median run, when it has a soak. */
export function soakedRuns(doc: ResultsDocument): Array<{ variant: string; run: RunRecord; soak: SoakRecord }> {
  return doc.variants.flatMap((v) => {
    const run = v.runs[medianRunIndex(v.runs)];
    return run?.soak ? [{ variant: v.name, run, soak: run.soak }] : [];
  });
}

/** KiB to one decimal, as a route's growth a call is read. */
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

/** What each route did, one clause each: "/report keeps 16.2 KiB a call (R² 0.99); /export peaks +40.0 MiB while served; / keeps nothing". */
export function routeLine(routes: readonly RouteGrowth[]): string {
  return routes
    .map((r) => {
      const name = `${r.method === 'GET' ? '' : `${r.method} `}${r.path}`;
      const keeps =
        r.bytesPerRequest >= 1024 && r.interval[0] > 0 ? `keeps ${kib(r.bytesPerRequest)} a call (R² ${r.r2.toFixed(2)})` : undefined;
      // A route that keeps memory grows in steps (an allocator's arenas), not on a line: a peak is said when it
      // stands out of that (4 MiB, and a tenth of what the route grew a stretch).
      const grewPerStretch = Math.abs(r.bytesPerRequest) * (r.requests / Math.max(1, r.segments));
      const peaks =
        r.transientPeakBytes >= Math.max(4 * 1048576, 0.1 * grewPerStretch)
          ? `peaks +${mib(r.transientPeakBytes)} while served`
          : undefined;
      const what = [keeps, peaks].filter(Boolean).join(' and ') || `keeps nothing (${r.bytesPerRequest.toFixed(0)} bytes a call)`;
      return `${name} ${what}; ${r.requests} calls in ${r.segments} stretches`;
    })
    .join('; ');
}

/** The per-route table of the reports: one row a route. */
export const ROUTE_HEAD = [
  'route',
  'weight',
  'calls',
  'stretches',
  'kept a call (KiB)',
  '95% interval (KiB)',
  'R²',
  'transient peak (MiB)',
];
export function routeCells(r: RouteGrowth): string[] {
  const k = (b: number) => (b / 1024).toFixed(1);
  return [
    `${r.method} ${r.path}`,
    String(r.weight),
    String(r.requests),
    String(r.segments),
    k(r.bytesPerRequest),
    `${k(r.interval[0])} – ${k(r.interval[1])}`,
    r.r2.toFixed(2),
    (r.transientPeakBytes / 1048576).toFixed(1),
  ];
}

/** What the per-route tables say under them. */
export const routeNote = (everyMs: number) =>
  `The soak sent the routes one at a time, in turn; the peaks are the highest resident memory a worker reached above its level while the route was sent, read every ${everyMs.toFixed(0)} ms.`;

/** Lines per soaked variant on a worker's lifetime: growth per request, replacements, the recycling advice. */
export function lifetimeLines(doc: ResultsDocument): string[] {
  return soakedRuns(doc).flatMap(({ variant, soak: s }) => {
    const out: string[] = [];
    const g = s.growth;
    if (g) {
      const verdict =
        g.verdict === 'growth'
          ? `grows ${g.bytesPerRequest.toFixed(0)} bytes per request (R² ${g.r2.toFixed(3)}, pooled over ${g.workers.length} workers)`
          : g.verdict === 'plateau'
            ? 'grows, then stops (a plateau: a cache that fills, not a leak)'
            : g.verdict === 'flat'
              ? `does not grow with requests (${g.bytesPerRequest.toFixed(0)} bytes per request)`
              : `${g.requestsPerWorker.toFixed(0)} requests per worker: too few to fit growth`;
      out.push(`${variant}: each worker's USS ${verdict}; ${g.requestsPerWorker.toFixed(0)} requests per worker`);
    }
    if (s.routes) out.push(`${variant}: ${routeLine(s.routes.byRoute)} (peaks read every ${s.routes.peakReadEveryMs.toFixed(0)} ms)`);
    const r = s.replacements ?? [];
    if (r.length > 0) {
      const recycled = r.filter((x) => x.cause === 'recycled').length;
      const reforked = r.filter((x) => x.cause === 'refork').length;
      const births = r.map((x) => x.newUssAtBirthBytes).filter((x): x is number => x !== null);
      const whole = r.map((x) => x.wholeAgainMs).filter((x): x is number => x !== null);
      out.push(
        `${variant}: ${r.length} workers replaced (${recycled} recycled by the server, ${reforked > 0 ? `${reforked} reforked from a warm worker, ` : ''}${r.length - recycled - reforked} died): ${r
          .slice(0, 6)
          .map((x) => `${x.oldPid} → ${x.newPid ?? '?'}`)
          .join(
            ', ',
          )}${r.length > 6 ? ', …' : ''}; after ${mean(r.map((x) => x.oldRequests)).toFixed(0)} requests on average, ${births.length ? `a new worker starts at ${mib(mean(births))} USS` : ''}${whole.length ? `, the tree whole again in ${mean(whole).toFixed(0)} ms` : ''}`,
      );
    }
    if (s.refork) {
      const f = s.refork;
      out.push(
        `${variant}: refork at ${(f.tMs / 1000).toFixed(1)} s (${f.workers} workers forked anew from a warm one): total PSS ${mib(f.beforeBytes)} before, ${mib(f.afterBytes)} right after (the new workers share everything until they serve: a reading then overstates the saving), ${mib(f.endBytes)} at the soak's end`,
      );
      const depth = reforkDepthLine(f);
      if (depth) out.push(`${variant}: ${depth}`);
    }
    const cow = s.cowEfficiency && cowLine(s.cowEfficiency);
    if (cow) out.push(`${variant}: ${cow}`);
    if (s.advice) out.push(`${variant}: ${s.advice.text}`);
    if (s.advice?.memory) out.push(`${variant}: ${s.advice.memory.text}`);
    const all = doc.verification?.filter((x) => x.variant === variant) ?? [];
    const rounds = all.filter((x) => !x.remedy && !x.byRss);
    for (const v of rounds) {
      const max = Math.max(0, ...v.workerPeakUssBytes);
      out.push(
        `${variant}, verified with ${v.setting}${rounds.length > 1 ? ` (round ${v.round})` : ''}: ${v.within ? 'every' : 'NOT every'} worker stayed under ${mib(v.limitBytes)} (largest peak USS ${mib(max)}, exits included, over ${v.workerPeakUssBytes.length} workers, ${v.replacements} replacements)`,
      );
    }
    const held = rounds.find((v) => v.within);
    if (rounds.length > 1 || (rounds.length === 1 && !held))
      out.push(
        held
          ? `${variant}: the setting that held: ${held.setting}`
          : `${variant}: no setting held in ${rounds.length} rounds; the last peak says the limit leaves no room for growth`,
      );
    for (const v of all.filter((x) => x.byRss)) {
      const born = v.byRss?.recycledAtBirth ?? 0;
      out.push(
        `${variant}, verified by RSS with ${v.setting}: ${v.within ? 'every' : 'NOT every'} worker stayed under ${mib(v.limitBytes)} (largest peak USS ${mib(Math.max(0, ...v.workerPeakUssBytes))}, ${v.replacements} replacements, ${born === 0 ? 'none' : born} recycled at birth)`,
      );
    }
    for (const v of all.filter((x) => x.remedy)) {
      const r = v.remedy;
      if (!r) continue;
      const copy =
        r.exitCopyBytes === null
          ? 'no exit was watched'
          : `a worker copied ${mib(r.exitCopyBytes)} at its exit (${mib(r.withoutBytes)} without it, ${r.exits} exits)`;
      out.push(
        `${variant}, with ${v.setting} and the exit remedy (${r.text}): ${copy}; largest peak USS ${mib(Math.max(0, ...v.workerPeakUssBytes))}`,
      );
    }
    return out;
  });
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * A refork's generations compared at equal depth (requests served since each one's fork): what the new workers
 * saved each, and when that stopped, with the server's own refork schedule beside it.
 */
export function reforkDepthLine(f: ReforkRecord): string | undefined {
  const rows = f.equalDepth;
  if (!rows || rows.length === 0) return undefined;
  const first = rows[0] as NonNullable<ReforkRecord['equalDepth']>[number];
  const last = rows[rows.length - 1] as typeof first;
  const saving = (r: typeof first) =>
    r.savingBytesPerWorker >= 0 ? `${mib(r.savingBytesPerWorker)} less USS each` : `${mib(-r.savingBytesPerWorker)} more USS each`;
  const head = `at equal depth (requests served since each one's fork), the reforked workers hold ${saving(first)} than the ones they replaced at ${count(first.requests)} requests${rows.length > 1 ? `, ${saving(last)} at ${count(last.requests)}` : ''}`;
  const verdict =
    f.stopsPayingAfter === null || f.stopsPayingAfter === undefined
      ? `the refork still paid at the last depth compared (${count(last.requests)} requests per worker)`
      : f.stopsPayingAfter <= first.requests
        ? 'the refork did not pay here (under 0.5 MiB per worker from the first depth compared)'
        : `the refork stopped paying after about ${count(f.stopsPayingAfter)} requests per new worker (under 0.5 MiB each from then on)`;
  return `${head}: ${verdict}${f.schedule ? `. ${f.schedule}` : ''}`;
}

/** The copy-on-write efficiency (shared over the parent's RSS) per generation, from its first reading to its last. */
export function cowLine(c: CowEfficiencyRecord): string | undefined {
  const gens = [0, 1]
    .map((g) => c.points.filter((p) => p.generation === g))
    .filter((ps) => ps.length > 0)
    .map((ps, _, all) => {
      const a = ps[0] as CowEfficiencyRecord['points'][number];
      const b = ps[ps.length - 1] as typeof a;
      const name = all.length > 1 ? (a.generation === 0 ? 'the first generation ' : 'the reforked one ') : '';
      return `${name}${a.percent.toFixed(0)}% at ${count(a.requests)} requests → ${b.percent.toFixed(0)}% at ${count(b.requests)}`;
    });
  if (gens.length === 0) return undefined;
  return `copy-on-write efficiency (each worker's shared part over the RSS of the ${c.parent === 'worker' ? 'worker it was forked from' : 'master'}): ${gens.join('; ')}`;
}

/** Lines per soaked variant: load, settled against peak, erosion of the workers' shared part, the sampler's cost. */
export function soakLines(doc: ResultsDocument): string[] {
  return soakedRuns(doc).map(({ variant, run, soak: s }) => {
    // A mold (other workers forked from it) is their parent, not one of them.
    const w = s.workers.filter((x) => !x.mold);
    const erosion = w.length
      ? `per worker the shared part (Shared_Clean + Shared_Dirty) went ${mib(mean(w.map((x) => x.sharedStartBytes)))} → ${mib(mean(w.map((x) => x.sharedEndBytes)))} (−${mib(mean(w.map((x) => x.sharedLostBytes)))}) and USS ${mib(mean(w.map((x) => x.ussStartBytes)))} → ${mib(mean(w.map((x) => x.ussEndBytes)))}; copy-on-write efficiency ${mean(w.map((x) => x.cowEfficiencyPercent)).toFixed(0)}%`
      : s.workers.length > 0
        ? 'only the mold (the worker the others were forked from) lasted the whole soak'
        : 'no worker lasted the whole soak';
    return `${variant}: ${s.requests} requests in ${(s.durationMs / 1000).toFixed(1)} s (${s.requestsPerSecond.toFixed(0)}/s${s.rate ? `, rate ${s.rate}/s` : ''}); total PSS peak ${mib(s.peakTotalPssBytes)}, settled after it ${mib(run.totals.pssBytes)}; ${erosion}; sampler: ${s.samples} samples every ${s.achievedIntervalMs.toFixed(0)} ms (asked ${s.intervalMs}), ${s.samplerCpuMsPerSample.toFixed(1)} ms CPU each, ${s.samplerCpuPercent.toFixed(1)}% of a core (budget ${s.maxCpuPercent}%)`;
  });
}
