import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { errnoOf } from '../errors.js';
import { type FileRange, fileRanges, inheritedRanges, libKb } from './map-ranges.js';
import { readText } from './read-text.js';
import { parseSmaps } from './smaps.js';

/**
 * The observer's share: PSS splits every page among all the processes that map it, and memcompare's own Node
 * process maps libc, libm, libstdc++ and libgcc_s — libraries a PHP, Python or Ruby server maps too. While
 * memcompare runs, those of the server's pages that memcompare has touched as well are split one way more,
 * and part of the server's PSS (and, where only one server process and memcompare map a page, its USS) is
 * charged to memcompare, outside the tree it reports.
 *
 * As root the share is exact: /proc/<pid>/pagemap gives the frame behind each page of a shared library, in the
 * server's processes and in memcompare's, and /proc/kpagecount how many mappings the frame has. With this
 * kernel's per-page map counts (CONFIG_PAGE_MAPCOUNT, what smaps uses for Pss and Private_*), a frame mapped
 * `c` times, `u` of them by the observers, carries page/c of PSS in each process and would carry page/(c−u)
 * without them; it is private in a process when nothing else maps it (c−u = 1). Only the files both sides map
 * are read (a handful of libraries), so this costs a few reads per process, not a page-table walk.
 *
 * Without the right to read frames (not root: the kernel zeroes them and /proc/kpagecount is root's), it
 * estimates from full smaps, per mapping of a shared library: with Rss r and Pss p the pages are mapped r/p
 * times on average; assuming the observers map every resident page once each, the mapping would carry
 * r/(r/p − observers) without them. Said to be an estimate wherever it is recorded.
 *
 * Hand-written: no library reads pagemap or kpagecount for Node.
 */

const PAGE = 4096;

/**
 * Files every reader of /proc maps — the C library, the dynamic loader, the locale — `cat`, `ps` and smem's Python as
 * much as memcompare: no reading of a process is ever free of one, and the hand measurement memcompare is held
 * to (`cat` of smaps_rollup, in a shell) takes the same share of them. Measured on an idle PHP pool master (libc
 * mapped by 3–9 processes on a small host): `cat` alone lowers its PSS by ~50 kB, and two hand readings of it
 * moved by up to 90 kB as shells came and went. The share of these files is left as read; what memcompare
 * takes beyond any reader (libstdc++, libm, libgcc_s: 488 of 536 kB on that master) is added back.
 */
const EVERY_READER = /\/(libc\.so[^/]*|ld-linux[^/]*\.so[^/]*)$|^\/usr\/lib\/locale\//;

/** How a share was obtained. */
export type ObserverMethod = 'pagemap' | 'estimate';

/** What the observers take from one process: the PSS and USS it would have without them, minus what it has. */
export interface ProcessShare {
  pssBytes: number;
  ussBytes: number;
}

export interface ObserverShares {
  method: ObserverMethod;
  /** Why the exact method was not used, when it was not. */
  reason?: string;
  /** Per measured pid. A pid missing is one whose maps could not be read (gone); it gets no correction. */
  byPid: Map<number, ProcessShare>;
}

/**
 * Ranges that touch merged into one (a library's segments lie end to end): one pagemap read each, as each
 * read is a system call and a page-table walk set up anew (on a 65-process Python tree, 15 reads a process
 * cost 0.1 ms of CPU; most of it per read, not per page).
 */
function contiguous(ranges: readonly FileRange[]): { start: number; end: number }[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/**
 * The frames behind the present pages of some ranges of one process, from its pagemap: each entry is 64 bits,
 * bit 63 "present", bits 0–54 the frame number (zero when the reader may not see frames).
 */
function framesOf(pid: string, ranges: readonly FileRange[], each: (pfn: number) => void): boolean {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/pagemap`, 'r');
  } catch {
    return false;
  }
  try {
    for (const r of contiguous(ranges)) {
      const pages = (r.end - r.start) / PAGE;
      // Read as 32-bit words in the host's order (little-endian where memcompare runs, as the kernel writes them):
      // Buffer.readUInt32LE checks its bounds on every call, 85 µs a Python process of a one-shot snapshot.
      const words = new Uint32Array(pages * 2);
      const got = readSync(fd, words, 0, words.byteLength, (r.start / PAGE) * 8);
      for (let w = 0; w + 1 < got / 4; w += 2) {
        const hi = words[w + 1] as number;
        if ((hi & 0x80000000) === 0) continue;
        // Bits 32–54 of the frame number sit in bits 0–22 of the high word.
        const pfn = (hi & 0x7fffff) * 0x1_0000_0000 + (words[w] as number);
        if (pfn !== 0) each(pfn);
      }
    }
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** How many mappings each frame has, from /proc/kpagecount, read in runs of nearby frames. */
function mapCounts(pfns: readonly number[]): Map<number, number> | undefined {
  const out = new Map<number, number>();
  if (pfns.length === 0) return out;
  const sorted = [...pfns].sort((a, b) => a - b);
  let fd: number;
  try {
    fd = openSync('/proc/kpagecount', 'r');
  } catch {
    return undefined;
  }
  try {
    let i = 0;
    while (i < sorted.length) {
      const first = sorted[i] as number;
      let j = i;
      // Frames of one library are often neighbours: one read covers gaps of up to 64 frames.
      while (j + 1 < sorted.length && (sorted[j + 1] as number) - (sorted[j] as number) <= 64) j++;
      const last = sorted[j] as number;
      const words = new Uint32Array((last - first + 1) * 2);
      readSync(fd, words, 0, words.byteLength, first * 8);
      // A map count never needs the high word (host order, as in framesOf).
      for (let k = i; k <= j; k++) out.set(sorted[k] as number, words[((sorted[k] as number) - first) * 2] as number);
      i = j + 1;
    }
    return out;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export interface ObserverOptions {
  /** The processes whose share is taken out: memcompare's own by default. */
  observers?: readonly number[];
  /**
   * The observers' frames as captured before the measured processes were read (`observeFrames`): a process
   * keeps faulting in library pages as it runs new code, and pages it maps only after the reads took nothing
   * from them. Captured now when not given.
   */
  frames?: ObservedFrames;
  /**
   * Each measured process's virtual size and RSS as just read: where they have not changed since the last call,
   * what was found then is used again (see `treeFramesOf`).
   */
  sizes?: ReadonlyMap<number, { vssBytes: number; rssBytes: number }>;
  /** Each measured process's parent: a worker forked from a measured master may take its ranges (see `inheritedRanges`). */
  parents?: ReadonlyMap<number, number>;
}

/**
 * What was found in each process, by pid: the ranges of the observers' libraries in its maps, at the virtual
 * size it had, and the observers' frames among its pages, at the RSS it had. Reading a process's maps costs the
 * kernel a walk of all its mappings (65 Python processes: 16 ms of CPU, half of what a sample costs) and its
 * pagemap another; a process whose virtual size has not changed has mapped and unmapped nothing (a library
 * loaded later changes it), and one whose RSS has not changed either has faulted in no new page. The frames'
 * map counts are read afresh every time. An idle tree costs a read of /proc/kpagecount; a busy one, whose
 * sizes move, is read in full. A pid reused by another process of the very same sizes would keep stale
 * frames: no longer mapped by it, they are then counted for a process that does not map them — a case not
 * guarded against beyond the sizes.
 */
const found = new Map<
  number,
  { vss: number; rss: number; keys: string; mine: number; ranges: FileRange[]; frames: number[] | undefined }
>();

/** The lines of `observed`'s files in one process's maps, parsed (only those lines). */
function rangesIn(pid: number, observed: ObservedFrames): FileRange[] | undefined {
  const text = readText(`/proc/${pid}/maps`);
  if (text === undefined) return undefined;
  const lines: string[] = [];
  for (const path of observed.paths) {
    for (let at = text.indexOf(path); at !== -1; at = text.indexOf(path, at + path.length)) {
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      lines.push(text.slice(start, end === -1 ? text.length : end));
    }
  }
  return fileRanges(lines.join('\n')).filter((r) => observed.keys.has(r.key));
}

/** The observers' frames among one process's pages (see `found`), or undefined when it is gone. */
function treeFramesOf(
  pid: number,
  observed: ObservedFrames,
  keys: string,
  size: { vssBytes: number; rssBytes: number } | undefined,
  inherit?: () => FileRange[] | undefined,
): number[] | undefined {
  const was = found.get(pid);
  const sameMaps = was !== undefined && size !== undefined && was.vss === size.vssBytes && was.keys === keys;
  if (sameMaps && was.frames && was.rss === size.rssBytes && was.mine === observed.frames.size) return was.frames;
  const ranges = sameMaps ? was.ranges : (inherit?.() ?? rangesIn(pid, observed));
  let frames: number[] | undefined = [];
  const into = frames;
  if (ranges === undefined || !framesOf(String(pid), ranges, (pfn) => observed.frames.has(pfn) && into.push(pfn))) frames = undefined;
  if (size === undefined || ranges === undefined) found.delete(pid);
  else {
    if (found.size > 4096) found.clear();
    found.set(pid, { vss: size.vssBytes, rss: size.rssBytes, keys, mine: observed.frames.size, ranges, frames });
  }
  return frames;
}

/** The library files the observers map, and the frames behind them (how many times each is mapped by them). */
export interface ObservedFrames {
  keys: Set<string>;
  /** The paths of those files, to find their lines in a process's maps without parsing every line. */
  paths: Set<string>;
  frames: Map<number, number>;
  /** Why frames could not be read, when they could not. */
  problem?: string;
}

/**
 * What the observers map now, in every file but their own executable (a server does not map memcompare's
 * Node binary, and it is the largest): the first half of `observerShares`, taken before the reads it corrects.
 */
export function observeFrames(observers: readonly number[] = [process.pid]): ObservedFrames {
  const keys = new Set<string>();
  const paths = new Set<string>();
  const frames = new Map<number, number>();
  let sawFrame = false;
  let readAny = false;
  for (const o of observers) {
    const dir = o === process.pid ? 'self' : String(o);
    const text = readText(`/proc/${dir}/maps`);
    if (text === undefined) continue;
    let exe: string | undefined;
    try {
      exe = readlinkSync(`/proc/${dir}/exe`);
    } catch {
      exe = undefined;
    }
    const ranges = fileRanges(text).filter((r) => r.path !== exe && !EVERY_READER.test(r.path));
    for (const r of ranges) {
      keys.add(r.key);
      paths.add(r.path);
    }
    const read = framesOf(dir, ranges, (pfn) => {
      sawFrame = true;
      frames.set(pfn, (frames.get(pfn) ?? 0) + 1);
    });
    readAny ||= read;
  }
  if (!readAny) return { keys, paths, frames, problem: 'cannot read the pagemap of memcompare itself' };
  if (keys.size > 0 && !sawFrame) {
    return {
      keys,
      paths,
      frames,
      problem: 'frame numbers are hidden (not root: pagemap shows frames, and /proc/kpagecount opens, only with CAP_SYS_ADMIN)',
    };
  }
  return { keys, paths, frames };
}

/**
 * What the observers take from each of `pids`. Exact with frames (root), an estimate otherwise; the reason
 * is recorded either way. Never throws: a process that is gone gets no entry.
 */
export function observerShares(pids: readonly number[], options: ObserverOptions = {}): ObserverShares {
  const observers = options.observers ?? [process.pid];
  const observed = options.frames ?? observeFrames(observers);
  const exact =
    observed.problem === undefined
      ? exactShares(pids, observed, options.sizes, options.parents)
      : { ok: false as const, reason: observed.problem };
  if (exact.ok) return { method: 'pagemap', byPid: exact.byPid };
  return { method: 'estimate', reason: exact.reason, byPid: estimatedShares(pids, observed.keys, observers.length) };
}

function exactShares(
  pids: readonly number[],
  observed: ObservedFrames,
  sizes?: ReadonlyMap<number, { vssBytes: number; rssBytes: number }>,
  parents?: ReadonlyMap<number, number>,
): { ok: true; byPid: Map<number, ProcessShare> } | { ok: false; reason: string } {
  const byPid = new Map<number, ProcessShare>();
  const mine = observed.frames;
  // The tree's frames in files the observers map too, per process (a frame may be mapped more than once).
  const treeFrames = new Map<number, number[]>();
  const wantedCounts: number[] = [];
  const keys = [...observed.keys].sort().join(',');
  // A parent's VmLib, read once for all of its children (see inheritedRanges).
  const parentLibs = new Map<number, number | undefined>();
  for (const pid of pids) {
    const parent = parents?.get(pid);
    const inherit = () => {
      const from = parent === undefined ? undefined : found.get(parent);
      if (parent === undefined || !from || from.keys !== keys) return undefined;
      if (!parentLibs.has(parent)) parentLibs.set(parent, libKb(parent));
      return inheritedRanges(pid, parent, from.ranges, parentLibs.get(parent));
    };
    const frames = treeFramesOf(pid, observed, keys, sizes?.get(pid), inherit);
    if (frames === undefined) continue;
    treeFrames.set(pid, frames);
    for (const f of frames) wantedCounts.push(f);
  }
  const counts = mapCounts([...new Set(wantedCounts)]);
  if (!counts) return { ok: false, reason: 'cannot read /proc/kpagecount (it opens only with CAP_SYS_ADMIN)' };
  for (const [pid, frames] of treeFrames) {
    // PSS in the kernel's fixed point (page << 12 / count), summed before rounding as smaps does.
    let pssShifted = 0;
    let uss = 0;
    for (const pfn of frames) {
      const c = counts.get(pfn) ?? 0;
      const u = mine.get(pfn) ?? 0;
      const without = c - u;
      if (c < 1 || without < 1) continue; // counts moved between the reads: leave the page as it is
      pssShifted += Math.floor((PAGE * 4096) / without) - Math.floor((PAGE * 4096) / c);
      if (without === 1 && c >= 2) uss += PAGE;
    }
    byPid.set(pid, { pssBytes: Math.round(pssShifted / 4096), ussBytes: uss });
  }
  return { ok: true, byPid };
}

/**
 * The estimate from full smaps (see the module comment): per mapping of a file the observers map, r/p gives
 * the mean number of mappings of its pages; taking the observers' out of that mean gives the PSS it would
 * carry, and a mapping shared by exactly this process and the observers would be private.
 */
export function estimateFromSmaps(smapsText: string, observerKeys: ReadonlySet<string>, observers: number): ProcessShare {
  let pss = 0;
  let uss = 0;
  const headers = [...smapsText.matchAll(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ (\S+) (\d+)/gm)];
  const mappings = parseSmaps(smapsText);
  mappings.forEach((m, i) => {
    const h = headers[i];
    if (!h || h[2] === '0' || !observerKeys.has(`${h[1]} ${h[2]}`)) return;
    const rss = m.fields.Rss ?? 0;
    const p = m.fields.Pss ?? 0;
    const shared = (m.fields.Shared_Clean ?? 0) + (m.fields.Shared_Dirty ?? 0);
    if (rss === 0 || p === 0 || shared === 0) return;
    const mean = rss / p;
    const without = mean - observers;
    if (without < 1) return;
    pss += rss / without - p;
    if (without < 1.5) uss += shared;
  });
  return { pssBytes: Math.round(pss), ussBytes: uss };
}

function estimatedShares(pids: readonly number[], keys: ReadonlySet<string>, observers: number): Map<number, ProcessShare> {
  const out = new Map<number, ProcessShare>();
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    } catch (error) {
      if (errnoOf(error) === undefined) throw error;
      continue;
    }
    out.set(pid, estimateFromSmaps(text, keys, observers));
  }
  return out;
}
