import type { CowEfficiencyRecord, ReforkRecord, ReplacementRecord, SoakWorker, Timeline } from './types.js';

type Entry = Timeline['processes'][number];

/** Under this saving per worker a refork no longer pays: half a MiB, what the regression gate resolves per worker. */
const PAYS_BYTES = 512 * 1024;

/** The pids a refork brought (its replacements' new workers). */
const reforkedPids = (replacements: readonly ReplacementRecord[]) =>
  new Set(replacements.filter((r) => r.cause === 'refork' && r.newPid !== null).map((r) => r.newPid as number));

/** A worker other workers were forked from (a mold: worker 0 of a fork_worker server): the parent, not one of the generation. */
function moldPids(t: Timeline): Set<number> {
  const workers = new Set(t.processes.filter((p) => p.role === 'worker').map((p) => p.pid));
  return new Set(
    t.processes.filter((p) => p.role === 'worker' && p.ppid !== undefined && workers.has(p.ppid)).map((p) => p.ppid as number),
  );
}

/** One generation's mean (requests served since its fork, USS) at each sample where all its workers were read. */
function generationCurve(members: readonly Entry[], depth: (e: Entry, i: number) => number | null): Array<{ x: number; y: number }> {
  const n = members[0]?.ussBytes.length ?? 0;
  const out: Array<{ x: number; y: number }> = [];
  for (let i = 0; i < n; i++) {
    const xs = members.map((e) => depth(e, i));
    const ys = members.map((e) => e.ussBytes[i] ?? null);
    if (xs.some((x) => x === null) || ys.some((y) => y === null)) continue;
    out.push({ x: mean(xs as number[]), y: mean(ys as number[]) });
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Linear interpolation on a curve of increasing x; undefined outside it. */
function at(curve: ReadonlyArray<{ x: number; y: number }>, x: number): number | undefined {
  for (let k = 1; k < curve.length; k++) {
    const a = curve[k - 1] as { x: number; y: number };
    const b = curve[k] as { x: number; y: number };
    if (x >= a.x && x <= b.x) return b.x === a.x ? b.y : a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  }
  return undefined;
}

/**
 * The reforked workers against the ones they replaced at the same depth (requests served since each one's fork):
 * right after a refork the new workers share everything, and a comparison at the same moment (the soak's end, or
 * the total right after) mixes depths. `before` is what a worker served before the soak (the warm-up's).
 */
function equalDepth(
  t: Timeline,
  replacements: readonly ReplacementRecord[],
  before: (pid: number) => number,
): Pick<ReforkRecord, 'equalDepth' | 'stopsPayingAfter'> {
  const gone = new Set(replacements.filter((r) => r.cause === 'refork').map((r) => r.oldPid));
  const born = reforkedPids(replacements);
  const old = t.processes.filter((p) => gone.has(p.pid) && p.served);
  const young = t.processes.filter((p) => born.has(p.pid) && p.served);
  if (old.length === 0 || young.length === 0) return {};
  const served = (e: Entry, i: number) => e.served?.[i] ?? null;
  const oldCurve = generationCurve(old, (e, i) => {
    const s = served(e, i);
    return s === null ? null : s + before(e.pid);
  });
  const newCurve = generationCurve(young, served);
  const rows = newCurve
    .map(({ x, y }) => ({ requests: Math.round(x), newUssBytes: y, oldUssBytes: at(oldCurve, x) }))
    .filter((r): r is { requests: number; newUssBytes: number; oldUssBytes: number } => r.oldUssBytes !== undefined)
    .map((r) => ({ ...r, savingBytesPerWorker: r.oldUssBytes - r.newUssBytes }));
  if (rows.length === 0) return {};
  // The last depth from which on the saving stayed under the threshold (a dip that recovers is not the end of it).
  let stops: number | null = null;
  for (let k = rows.length - 1; k >= 0 && (rows[k] as { savingBytesPerWorker: number }).savingBytesPerWorker < PAYS_BYTES; k--) {
    stops = (rows[k] as { requests: number }).requests;
  }
  return { equalDepth: rows, stopsPayingAfter: stops };
}

/**
 * A refork as the soak saw it (a fork_worker server: worker 0 forks the others anew from its warm state): the
 * tree's total PSS at the last sample before the first old worker left, at the first sample where every new
 * worker exists (they share everything with worker 0 until they serve: a reading then overstates the saving),
 * and at the soak's last sample (the new generation warm again under the load); then both generations at equal
 * depth, with the worker-pid header.
 */
export function reforkGenerations(
  t: Timeline,
  replacements: readonly ReplacementRecord[],
  before: (pid: number) => number = () => 0,
): ReforkRecord | undefined {
  const reforked = replacements.filter((r) => r.cause === 'refork');
  if (reforked.length === 0) return undefined;
  const total = (i: number) => t.processes.reduce((a, p) => a + (p.pssBytes[i] ?? 0), 0);
  const first = t.tMs.indexOf(Math.min(...reforked.map((r) => r.tMs)));
  const newPids = reforkedPids(reforked);
  const born = t.tMs.findIndex((_, i) => i >= first && t.processes.every((p) => !newPids.has(p.pid) || p.pssBytes[i] !== null));
  const last = t.tMs.length - 1;
  if (first < 1 || born < 0) return undefined;
  return {
    tMs: t.tMs[first] as number,
    workers: reforked.length,
    beforeBytes: total(first - 1),
    afterBytes: total(born),
    endBytes: total(last),
    ...equalDepth(t, replacements, before),
  };
}

/**
 * Pitchfork's copy-on-write efficiency along the soak: each worker's shared part (Shared_Clean + Shared_Dirty) over
 * the RSS of the process it was forked from, the master or a mold worker, per generation against the requests its
 * workers served since their fork. A mold is the parent, not a member of a generation. Needs the worker-pid header.
 */
export function cowEfficiency(
  t: Timeline,
  replacements: readonly ReplacementRecord[],
  before: (pid: number) => number = () => 0,
): CowEfficiencyRecord | undefined {
  const molds = moldPids(t);
  const byPid = new Map(t.processes.map((p) => [p.pid, p]));
  const master = t.processes.find((p) => p.role === 'master');
  const born = reforkedPids(replacements);
  const members = t.processes.filter((p) => p.role === 'worker' && p.served && !molds.has(p.pid));
  if (members.length === 0) return undefined;
  const parentOf = (e: Entry) => (e.ppid !== undefined ? byPid.get(e.ppid) : undefined) ?? master;
  const points: CowEfficiencyRecord['points'] = [];
  for (const generation of [0, 1]) {
    const gen = members.filter((e) => born.has(e.pid) === (generation === 1));
    for (let i = 0; i < t.tMs.length; i++) {
      const read = gen
        .map((e) => ({ served: e.served?.[i] ?? null, shared: e.sharedBytes[i] ?? null, parentRss: parentOf(e)?.rssBytes[i] ?? null, e }))
        .filter((r) => r.served !== null && r.shared !== null && r.parentRss);
      if (read.length === 0) continue;
      points.push({
        generation,
        requests: Math.round(mean(read.map((r) => (r.served as number) + (generation === 0 ? before(r.e.pid) : 0)))),
        percent: mean(read.map((r) => ((r.shared as number) * 100) / (r.parentRss as number))),
      });
    }
  }
  if (points.length === 0) return undefined;
  return { parent: [...molds].length > 0 ? 'worker' : 'master', points };
}

/** Per worker present at the first and last samples: its shared part and USS then, and the copy-on-write efficiency. */
export function soakWorkers(t: Timeline): SoakWorker[] {
  const last = t.tMs.length - 1;
  const master = t.processes.find((p) => p.role === 'master');
  const byPid = new Map(t.processes.map((p) => [p.pid, p]));
  // A worker forked from another worker shares with that one, the mold, not with the master.
  const molds = moldPids(t);
  return t.processes
    .filter((p) => p.role === 'worker')
    .filter((p) => p.sharedBytes[0] !== null && p.sharedBytes[last] !== null)
    .map((p) => {
      const start = p.sharedBytes[0] as number;
      const end = p.sharedBytes[last] as number;
      const parent = (p.ppid !== undefined ? byPid.get(p.ppid) : undefined) ?? master;
      const parentRss = parent?.rssBytes[0] ?? null;
      return {
        pid: p.pid,
        sharedStartBytes: start,
        sharedEndBytes: end,
        sharedLostBytes: start - end,
        ussStartBytes: p.ussBytes[0] as number,
        ussEndBytes: p.ussBytes[last] as number,
        cowEfficiencyPercent: parentRss ? (end * 100) / parentRss : 0,
        ...(molds.has(p.pid) ? { mold: true } : {}),
      };
    });
}
