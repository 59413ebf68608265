import { badArgument } from '../errors.js';
import type { Io, SkippedProcess, Snapshot } from '../memory.js';
import { containerRecord } from '../proc/cgroup.js';
import { groupRows, readMappings, sumMappings } from '../proc/mappings.js';
import { takeSnapshot } from '../proc/snapshot.js';
import { DEFAULT_GROUP_COLUMNS, DEFAULT_MAPPING_COLUMNS, GROUP_COLUMNS, MAPPING_COLUMNS } from '../render/mapping-table.js';
import { checkSortColumn, parseColumns, renderSmemTable } from '../render/smem-table.js';
import { terminalWidth } from '../render/width.js';

export interface SnapshotCommandOptions {
  pids: number[] | undefined;
  tree: boolean;
  match: RegExp | undefined;
  user: string | undefined;
  totals: boolean;
  abbreviate: boolean;
  sort: string;
  reverse: boolean;
  columns: string | undefined;
  noHeader: boolean;
  json: boolean;
  /** The kernel's figures as read: memcompare's own share of the processes' pages not added back. */
  raw?: boolean;
  mappings: boolean;
  group: boolean;
}

export function describeSkipped(skipped: readonly SkippedProcess[]): string {
  const shown = skipped.slice(0, 10).map((s) => `${s.pid} (${s.reason}: ${s.detail})`);
  const more = skipped.length > 10 ? `, and ${skipped.length - 10} more` : '';
  return `memcompare: skipped ${skipped.length} process${skipped.length === 1 ? '' : 'es'}: ${shown.join(', ')}${more}\n`;
}

/** `snapshot --mappings [--group]`: one row per mapping name (or group) over the selected processes. */
function runMappings(o: SnapshotCommandOptions, io: Io): number {
  const set = o.group ? GROUP_COLUMNS : MAPPING_COLUMNS;
  const columns = o.columns === undefined ? undefined : parseColumns(o.columns, set);
  const sort = checkSortColumn(o.sort, set);
  if (o.tree && (o.pids === undefined || o.pids.length === 0)) {
    throw badArgument('--tree', true, 'name the root processes with --pid, e.g. --pid 1234 --tree');
  }
  const snapshot = takeSnapshot({ pids: o.pids, tree: o.tree, match: o.match, user: o.user }, { strictPids: true });
  const skipped = [...snapshot.skipped];
  const perProcess = snapshot.processes.flatMap((p) => {
    const maps = readMappings(p.pid);
    if (!maps) skipped.push({ pid: p.pid, reason: 'exited', detail: 'gone before its smaps was read' });
    return maps ? [maps] : [];
  });
  const rows = sumMappings(perProcess);
  const groups = groupRows(rows);
  if (o.json) {
    const doc = { schemaVersion: 1, takenAt: snapshot.takenAt, processes: perProcess.length, mappings: rows, groups, skipped };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const width = terminalWidth(io.stdout);
    const options = {
      sort,
      reverse: o.reverse,
      totals: o.totals,
      abbreviate: o.abbreviate,
      noHeader: o.noHeader,
      ...(width ? { width } : {}),
    };
    io.stdout.write(
      o.group
        ? renderSmemTable(groups, { ...options, columnSet: GROUP_COLUMNS, columns: columns ?? DEFAULT_GROUP_COLUMNS })
        : renderSmemTable(rows, { ...options, columnSet: MAPPING_COLUMNS, columns: columns ?? DEFAULT_MAPPING_COLUMNS }),
    );
  }
  if (skipped.length > 0) io.stderr.write(describeSkipped(skipped));
  return 0;
}

export function runSnapshotCommand(o: SnapshotCommandOptions, io: Io): number {
  if (o.group && !o.mappings) throw badArgument('--group', true, 'groups mappings: add --mappings');
  if (o.mappings) return runMappings(o, io);
  // Validate everything before reading /proc.
  const columns = o.columns === undefined ? undefined : parseColumns(o.columns);
  const sort = checkSortColumn(o.sort);
  if (o.tree && (o.pids === undefined || o.pids.length === 0)) {
    throw badArgument('--tree', true, 'name the root processes with --pid, e.g. --pid 1234 --tree');
  }
  const snapshot = takeSnapshot({ pids: o.pids, tree: o.tree, match: o.match, user: o.user }, { strictPids: true, observer: !o.raw });
  if (o.json) {
    // With --pid: the memory cgroup of the first root beside the summed PSS (read only; absent without one).
    const root = o.pids?.[0];
    const container = root === undefined ? undefined : containerRecord(root, new Set(snapshot.processes.map((p) => p.pid)));
    io.stdout.write(`${JSON.stringify(container ? { ...snapshot, container } : snapshot, null, 2)}\n`);
  } else {
    io.stdout.write(
      renderSmemTable(snapshot.processes, {
        columns,
        sort,
        reverse: o.reverse,
        totals: o.totals,
        abbreviate: o.abbreviate,
        noHeader: o.noHeader,
      }),
    );
  }
  if (!o.json) io.stderr.write(describeObserver(snapshot.observer));
  if (snapshot.skipped.length > 0) io.stderr.write(describeSkipped(snapshot.skipped));
  return 0;
}

/**
 * One line on what was added back for memcompare's own share of the pages (nothing when it took none): the
 * table's figures are the processes' as they are without memcompare, which `--raw` turns off.
 */
export function describeObserver(observer: Snapshot['observer']): string {
  if (!observer || (observer.pssBytes === 0 && observer.ussBytes === 0)) return '';
  const kb = (b: number) => Math.round(b / 1024);
  const how = observer.method === 'pagemap' ? 'frame by frame' : `estimated: ${observer.reason ?? 'frames not readable'}`;
  return `memcompare: added back its own share of these processes' library pages (PSS +${kb(observer.pssBytes)} kB, USS +${kb(observer.ussBytes)} kB, ${how}); --raw shows the kernel's figures as read\n`;
}
