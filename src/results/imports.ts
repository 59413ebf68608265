/** One first import as the probe recorded it, in one process. */
export interface ImportRecord {
  /** The module's dotted name (for `from pkg import sub`, the submodule it loaded). */
  module: string;
  /** The import that was running when this one started (null at the top). */
  parent: string | null;
  /** Private memory (Private_Clean + Private_Dirty) the import added, its own imports included. */
  inclusiveBytes: number;
  /** The same less what its own first imports added. */
  exclusiveBytes: number;
  ms: number;
  /** Made in a forked child after the fork (a worker's own import). */
  afterFork: boolean;
}

/** One process's imports: a header (who it is) and its records in the order they ended. */
export interface ImportProcess {
  pid: number;
  ppid: number;
  /** A forked child of a probed process (a worker), not a start of its own. */
  forked: boolean;
  /** Its private memory when the probe first wrote (the interpreter before these imports). */
  startPrivateBytes: number;
  imports: ImportRecord[];
}

/** A node of an import tree: a module with what it added, its own first imports below it. */
export interface ImportNode {
  module: string;
  inclusiveBytes: number;
  exclusiveBytes: number;
  ms: number;
  children: ImportNode[];
}

/**
 * The records of one process as a tree: each record under the import that was running when it started
 * (its `parent`, the nearest such record ended after it), children largest first.
 */
export function importTree(records: readonly ImportRecord[]): ImportNode[] {
  // A record ends after all of its children: walking backwards, a parent is met before its children.
  const roots: ImportNode[] = [];
  const open: { node: ImportNode; parent: string | null }[] = [];
  for (const r of [...records].reverse()) {
    const node: ImportNode = {
      module: r.module,
      inclusiveBytes: r.inclusiveBytes,
      exclusiveBytes: r.exclusiveBytes,
      ms: r.ms,
      children: [],
    };
    // The nearest open record named as this one's parent (the latest one of that name).
    let i = open.length - 1;
    while (i >= 0 && open[i]?.node.module !== r.parent) i--;
    const holder = i >= 0 ? open[i] : undefined;
    if (holder) holder.node.children.push(node);
    else roots.push(node);
    open.push({ node, parent: r.parent });
  }
  const sort = (nodes: ImportNode[]) => {
    nodes.sort((a, b) => b.inclusiveBytes - a.inclusiveBytes);
    for (const n of nodes) sort(n.children);
    return nodes;
  };
  return sort(roots);
}

/** The private memory all of a process's top-level imports added. */
export function importTotal(tree: readonly ImportNode[]): number {
  return tree.reduce((a, n) => a + n.inclusiveBytes, 0);
}

/** A module imported after the fork by workers: its cost per worker (median), and which workers made it. */
export interface AfterForkImport {
  module: string;
  /** Median over the workers that made it of its inclusive private cost. */
  bytesPerWorker: number;
  workers: number[];
}

/**
 * The top-level imports the workers made after the fork (those nested in another after-fork import are
 * counted in it), largest first: what preloading did not share.
 */
export function afterForkImports(workers: readonly ImportProcess[]): AfterForkImport[] {
  const byModule = new Map<string, { bytes: number[]; workers: number[] }>();
  for (const w of workers) {
    const after = w.imports.filter((r) => r.afterFork);
    const names = new Set(after.map((r) => r.module));
    for (const r of after) {
      // Counted once, at the outermost after-fork import that holds it.
      if (r.parent !== null && names.has(r.parent)) continue;
      const e = byModule.get(r.module) ?? { bytes: [], workers: [] };
      e.bytes.push(r.inclusiveBytes);
      e.workers.push(w.pid);
      byModule.set(r.module, e);
    }
  }
  return [...byModule]
    .map(([module, e]) => ({ module, bytesPerWorker: median(e.bytes), workers: e.workers }))
    .sort((a, b) => b.bytesPerWorker * b.workers.length - a.bytesPerWorker * a.workers.length);
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** `variants[].imports`: one instrumented boot of the variant (not one of its measured runs), read by the import probe. */
export interface ImportsRecord {
  /** How the interpreter was instrumented (the family's words); null when it is not, `reason` saying why. */
  method: string | null;
  reason?: string;
  /** The instrumented boot: not a measured run (its figures are the probe's), and what the probe cost it. */
  boot: { masterPid: number; processes: number; probeMs: number };
  /** What the master imported before the fork (what the fork shares), imports under 64 KiB left out. */
  master: { totalBytes: number; imports: number; tree: ImportNode[] };
  /** The workers' own first imports after the fork, largest total first. */
  afterFork: AfterForkImport[];
  /** Workers probed, and the median of what each imported after the fork. */
  workers: number;
  afterForkBytesPerWorker: number;
  /**
   * What importing the after-fork imports in the master before the fork would save in total PSS: all but
   * one copy of them, (workers − 1) × their cost per worker, less copy-on-write's give-back once measured
   * (`giveBack`). On a variant whose master imported none of the app, this is the saving of preloading it.
   */
  predictedSavingBytes: number;
  /** Whether the command loads the app in the master before the fork (the family reads it); absent when it cannot tell. */
  preloaded?: boolean;
  /**
   * On a variant that does not preload (`preloaded` false), `predictedSavingBytes` is the saving of preloading it:
   * what the master would share if it loaded the app, less copy-on-write's give-back when a preloaded variant
   * measured it (`giveBack`).
   */
  predictedPreloadSavingBytes?: number;
  /**
   * Copy-on-write's give-back, taken off the predictions (results/give-back.ts): the share of the master's
   * heap each worker of variant `from` had copied at its final sample, and the prediction before it was
   * taken off. Absent when no preloaded variant was measured: the prediction is then an upper bound.
   */
  giveBack?: { fraction: number; from: string; beforeBytes: number };
  /** The advice applied: the variant measured again with the modules imported before the fork (VariantResult.earlyImports). */
  applied?: {
    variant: string;
    modules: string[];
    predictedSavingBytes: number;
    /** The median total PSS of this variant's runs less the applied variant's. */
    measuredSavingBytes: number;
    failed: { module: string; error: string }[];
  };
}

/** The record of a variant whose interpreter is not instrumented: the reason, and nothing measured. */
export function notProbed(reason: string): ImportsRecord {
  return {
    method: null,
    reason,
    boot: { masterPid: 0, processes: 0, probeMs: 0 },
    master: { totalBytes: 0, imports: 0, tree: [] },
    afterFork: [],
    workers: 0,
    afterForkBytesPerWorker: 0,
    predictedSavingBytes: 0,
  };
}

/** Drops the nodes under `minBytes` (and their children): a results file keeps the tree a reader looks at. */
export function pruneTree(nodes: readonly ImportNode[], minBytes: number): ImportNode[] {
  return nodes.filter((n) => n.inclusiveBytes >= minBytes).map((n) => ({ ...n, children: pruneTree(n.children, minBytes) }));
}

/**
 * A variant's import record from its probed processes: the master (the launched pid) and its workers (its
 * children: every record a worker wrote was made after the fork, whether or not the fork ran Python's
 * fork hooks, as a server that forks in C does not).
 */
export function importsRecord(processes: readonly ImportProcess[], masterPid: number, method: string, workerCount?: number): ImportsRecord {
  const master = processes.find((p) => p.pid === masterPid);
  const workers = processes.filter((p) => p.pid !== masterPid && p.ppid === masterPid);
  const asAfter = workers.map((w) => ({ ...w, imports: w.imports.map((r) => ({ ...r, afterFork: true })) }));
  const afterFork = afterForkImports(asAfter);
  const perWorker = median(asAfter.map((w) => importTotal(importTree(w.imports))));
  const tree = importTree(master?.imports ?? []);
  const probeMs = processes.reduce((a, p) => a + p.imports.filter((r) => r.parent === null).reduce((b, r) => b + r.ms, 0), 0);
  return {
    method,
    boot: { masterPid, processes: processes.length, probeMs },
    master: { totalBytes: importTotal(tree), imports: master?.imports.length ?? 0, tree: pruneTree(tree, 65536) },
    afterFork,
    // A worker that imported nothing after the fork wrote no file: the probed run's own count.
    workers: Math.max(workers.length, workerCount ?? 0),
    afterForkBytesPerWorker: perWorker,
    predictedSavingBytes: Math.max(0, workers.length - 1) * perWorker,
  };
}
