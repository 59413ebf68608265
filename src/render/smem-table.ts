import { badArgument } from '../errors.js';
import type { MemoryAmounts, ProcessMemory } from '../memory.js';
import { termText } from './markup.js';
import { smemUnits } from './units.js';

/** A process row as the smem-style table sees it: a measured process, maybe with a role. */
/** What a table row needs: a measured process (snapshot) or a process record of a run. */
export type TableProcess = Omit<MemoryAmounts, 'pssShmemBytes'> &
  Pick<ProcessMemory, 'pid' | 'ppid' | 'user' | 'command' | 'vssBytes'> & { name?: string; role?: string };

/** The columns of a run's process tables (terminal and Markdown). */
export const RUN_COLUMNS = ['pid', 'role', 'command', 'swap', 'uss', 'pss', 'rss'];

export type Kind = 'pid' | 'text' | 'command' | 'amount';
export interface Column<T = TableProcess> {
  header: string;
  kind: Kind;
  /** smem's printf width. */
  width: number;
  value: (p: T) => number | string;
  /** What the totals row shows: the row count, distinct values, the sum, or nothing. */
  total: 'count' | 'distinct' | 'sum' | 'none';
  help: string;
}

/** An amount column: smem's "% 8s", summed in the totals row. */
export const amount = <T = TableProcess>(header: string, value: (p: T) => number, help: string): Column<T> => ({
  header,
  kind: 'amount',
  width: 8,
  value,
  total: 'sum',
  help,
});

/** Columns by their smem name (-c), plus the fields smem lacks. */
export const COLUMNS: Record<string, Column> = {
  pid: { header: 'PID', kind: 'pid', width: 5, value: (p) => p.pid, total: 'count', help: 'process ID' },
  ppid: { header: 'PPID', kind: 'pid', width: 5, value: (p) => p.ppid, total: 'none', help: 'parent process ID' },
  user: { header: 'User', kind: 'text', width: 8, value: (p) => p.user, total: 'distinct', help: 'owner of process' },
  name: { header: 'Name', kind: 'command', width: 24, value: (p) => p.name ?? '', total: 'none', help: 'name of process' },
  role: { header: 'Role', kind: 'text', width: 7, value: (p) => p.role ?? '', total: 'none', help: 'master or worker (runs only)' },
  command: { header: 'Command', kind: 'command', width: 27, value: (p) => p.command, total: 'none', help: 'process command line' },
  swap: amount('Swap', (p) => p.swapBytes, 'amount of swap space consumed (ignoring sharing)'),
  uss: amount('USS', (p) => p.ussBytes, 'unique set size'),
  pss: amount('PSS', (p) => p.pssBytes, 'proportional set size (including sharing)'),
  rss: amount('RSS', (p) => p.rssBytes, 'resident set size (ignoring sharing)'),
  vss: amount('VSS', (p) => p.vssBytes, 'virtual set size (total virtual memory mapped)'),
  pss_anon: amount('PssAnon', (p) => p.pssAnonBytes ?? 0, 'anonymous part of PSS (independent of other processes)'),
  pss_file: amount('PssFile', (p) => p.pssFileBytes ?? 0, 'file-backed part of PSS (shared with every process mapping the file)'),
  swap_pss: amount('SwapPss', (p) => p.swapPssBytes ?? 0, 'swap shared proportionally'),
};

export const DEFAULT_COLUMNS = ['pid', 'user', 'command', 'swap', 'uss', 'pss', 'rss'];

export interface SmemTableOptions<T = TableProcess> {
  /** The columns by name (default: the process columns; `snapshot --mappings` passes its own). */
  columnSet?: Record<string, Column<T>>;
  /** Column names, smem's -c (default: pid user command swap uss pss rss). */
  columns?: string[];
  /** Sort column (default pss), ascending like smem. */
  sort?: string;
  reverse?: boolean;
  totals?: boolean;
  /** smem -k: 1024-based units instead of kB. */
  abbreviate?: boolean;
  noHeader?: boolean;
  /** The terminal's width: command columns (smem's %-27.27s, -m's %-40.40s) are narrowed to fit it (down to 10). */
  width?: number;
}

export function parseColumns(spec: string, set: Record<string, unknown> = COLUMNS): string[] {
  const names = spec.split(/[\s,]+/).filter((s) => s !== '');
  for (const n of names) {
    if (!(n in set)) {
      throw badArgument('--columns', n, `unknown column; use any of: ${Object.keys(set).join(' ')}`);
    }
  }
  if (names.length === 0) throw badArgument('--columns', spec, `name at least one column: ${Object.keys(set).join(' ')}`);
  return names;
}

export function checkSortColumn(sort: string, set: Record<string, unknown> = COLUMNS): string {
  if (!(sort in set)) throw badArgument('--sort', sort, `unknown column; use any of: ${Object.keys(set).join(' ')}`);
  return sort;
}

// printf-style cells, as smem's "% 5s", "%-8s", "%-27.27s", "% 8s".
function cell<T>(col: Column<T>, value: string, width = col.width): string {
  switch (col.kind) {
    case 'pid':
    case 'amount':
      return value.padStart(width);
    case 'text':
      return termText(value).padEnd(width);
    case 'command':
      // A process sets its own command line: an escape sequence there must not reach the terminal.
      return termText(value).slice(0, width).padEnd(width);
  }
}

function shown<T>(col: Column<T>, value: number | string, abbreviate: boolean): string {
  if (col.kind === 'amount') {
    const bytes = value as number;
    return abbreviate ? smemUnits(bytes) : String(Math.floor(bytes / 1024));
  }
  return String(value);
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * smem's process table: same columns, widths, trailing spaces, sort (PSS ascending, ties by the row),
 * totals row and units, so that a user coming from smem reads the same thing.
 */
/** The table's content before layout: shown values (not yet padded), sorted as smem sorts. */
export interface TableContent<T = TableProcess> {
  columns: Column<T>[];
  rows: string[][];
  /** The totals row's values, when asked for. */
  totals?: string[];
}

/** Sorts and formats rows: shared by the smem layout (terminal) and the Markdown layout. */
export function tableContent<T = TableProcess>(processes: readonly T[], options: SmemTableOptions<T> = {}): TableContent<T> {
  const set = options.columnSet ?? (COLUMNS as unknown as Record<string, Column<T>>);
  const cols = (options.columns ?? DEFAULT_COLUMNS).map((n) => set[n] as Column<T>);
  const sortCol = set[options.sort ?? 'pss'] as Column<T>;
  const abbreviate = options.abbreviate ?? false;
  const rows = processes.map((p) => ({ key: sortCol.value(p), values: cols.map((c) => c.value(p)) }));
  rows.sort((a, b) => {
    let d = compareValues(a.key, b.key);
    for (let i = 0; d === 0 && i < a.values.length; i++) d = compareValues(a.values[i] as never, b.values[i] as never);
    return d;
  });
  if (options.reverse) rows.reverse();
  const content: TableContent<T> = {
    columns: cols,
    rows: rows.map((r) => cols.map((c, i) => shown(c, r.values[i] as number | string, abbreviate))),
  };
  if (options.totals) {
    content.totals = cols.map((c, i) => {
      const values = rows.map((r) => r.values[i] as number | string);
      if (c.total === 'count') return String(rows.length);
      if (c.total === 'distinct') return String(new Set(values).size);
      if (c.total === 'sum')
        return shown(
          c,
          values.reduce((sum: number, v) => sum + (v as number), 0),
          abbreviate,
        );
      return '';
    });
  }
  return content;
}

/**
 * smem's process table: same columns, widths, trailing spaces, sort (PSS ascending, ties by the row),
 * totals row and units, so that a user coming from smem reads the same thing.
 */
export function renderSmemTable<T = TableProcess>(processes: readonly T[], options: SmemTableOptions<T> = {}): string {
  const { columns: cols, rows, totals } = tableContent(processes, options);
  const widths = cols.map((c) => c.width);
  if (options.width !== undefined) {
    // Each cell is followed by one space, and a trailing space ends the line.
    let over = widths.reduce((a, w) => a + w + 1, 0) - options.width;
    for (const [i, c] of cols.entries()) {
      if (over <= 0 || c.kind !== 'command') continue;
      const cut = Math.min(over, (widths[i] as number) - 10);
      if (cut > 0) {
        widths[i] = (widths[i] as number) - cut;
        over -= cut;
      }
    }
  }
  const header = cols.map((c, i) =>
    c.kind === 'pid' || c.kind === 'amount'
      ? c.header.padStart(widths[i] as number)
      : c.header.slice(0, c.kind === 'command' ? widths[i] : undefined).padEnd(widths[i] as number),
  );
  // Laid out by hand, not with cli-table3 (kept for the boxed tables): smem's layout is cells padded to
  // printf widths, one space after each, and cli-table3 cost ~0.33 ms a row here (5.7 ms for a 17-process
  // tree, against 23 ms to read it), which is what a `snapshot --tree` pays per extra process.
  const line = (cells: string[]) => `${cells.join(' ')} `;
  const lines: string[] = [];
  if (!options.noHeader) lines.push(line(header));
  for (const r of rows) lines.push(line(cols.map((c, i) => cell(c, r[i] as string, widths[i]))));
  if (totals) {
    // smem prints as many dashes as its header is wide (trailing space included) above the totals.
    lines.push('-'.repeat(header.join(' ').length + 1));
    lines.push(line(cols.map((c, i) => cell(c, totals[i] as string, widths[i]))));
  }
  return `${lines.join('\n')}\n`;
}
