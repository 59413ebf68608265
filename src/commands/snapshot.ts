import { badArgument } from '../errors.js';
import { checkSortColumn, parseColumns, renderSmemTable } from '../render/smem-table.js';
import { takeSnapshot } from '../snapshot.js';
import type { Io, SkippedProcess } from '../types.js';

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
}

export function describeSkipped(skipped: readonly SkippedProcess[]): string {
  const shown = skipped.slice(0, 10).map((s) => `${s.pid} (${s.reason}: ${s.detail})`);
  const more = skipped.length > 10 ? `, and ${skipped.length - 10} more` : '';
  return `memcompare: skipped ${skipped.length} process${skipped.length === 1 ? '' : 'es'}: ${shown.join(', ')}${more}\n`;
}

export function runSnapshotCommand(o: SnapshotCommandOptions, io: Io): number {
  // Validate everything before reading /proc.
  const columns = o.columns === undefined ? undefined : parseColumns(o.columns);
  const sort = checkSortColumn(o.sort);
  if (o.tree && (o.pids === undefined || o.pids.length === 0)) {
    throw badArgument('--tree', true, 'name the root processes with --pid, e.g. --pid 1234 --tree');
  }
  const snapshot = takeSnapshot({ pids: o.pids, tree: o.tree, match: o.match, user: o.user }, { strictPids: true });
  if (o.json) {
    io.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
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
  if (snapshot.skipped.length > 0) io.stderr.write(describeSkipped(snapshot.skipped));
  return 0;
}
