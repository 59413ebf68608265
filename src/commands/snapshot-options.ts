import { MemcompareError } from '../errors.js';
import type { SnapshotCommandOptions } from './snapshot.js';

/** `memcompare snapshot` flags, declared once for yargs and for the start-up fast path. */
export const SNAPSHOT_FLAGS = {
  pid: { alias: 'p', type: 'string', array: true, describe: 'Process ids, comma-separated or repeated' },
  tree: { type: 'boolean', default: false, describe: 'With --pid: include all descendants' },
  match: { alias: 'P', type: 'string', describe: 'Regex searched in the command line or process name (smem -P)' },
  user: { alias: 'U', type: 'string', describe: 'Only processes of this user name or uid' },
  totals: { alias: 't', type: 'boolean', default: false, describe: 'Print a totals row' },
  abbreviate: { alias: 'k', type: 'boolean', default: false, describe: 'Show units (K, M, G) instead of kB' },
  sort: { alias: 's', type: 'string', default: 'pss', describe: 'Sort by this column' },
  reverse: { alias: 'r', type: 'boolean', default: false, describe: 'Reverse the sort' },
  columns: { alias: 'c', type: 'string', describe: 'Columns to show (default: pid user command swap uss pss rss)' },
  'no-header': { alias: 'H', type: 'boolean', default: false, describe: 'Omit the header line' },
  json: { type: 'boolean', default: false, describe: 'Print a JSON document on stdout instead of the table' },
  raw: {
    type: 'boolean',
    default: false,
    describe: "The kernel's figures as read, with memcompare's own share of the processes' library pages left out of them",
  },
  mappings: {
    type: 'boolean',
    default: false,
    describe: 'One row per mapping name over the selected processes, from full smaps (smem -m)',
  },
  group: {
    type: 'boolean',
    default: false,
    describe: 'With --mappings: rows grouped into heap, interpreter, packages, other files, stacks',
  },
} as const;

export type SnapshotArgs = {
  pid?: (string | number)[];
  tree: boolean;
  match?: string;
  user?: string;
  totals: boolean;
  abbreviate: boolean;
  sort: string;
  reverse: boolean;
  columns?: string;
  'no-header': boolean;
  json: boolean;
  raw: boolean;
  mappings: boolean;
  group: boolean;
};

export function parsePids(values: unknown): number[] {
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => String(v).split(','));
  return list
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const t = s.trim();
      if (!/^\d+$/.test(t) || Number(t) <= 0) {
        throw new MemcompareError(
          'BAD_ARGUMENT',
          `--pid ${JSON.stringify(t)}: not a process id; pass positive integers, e.g. --pid 1234,1240`,
        );
      }
      return Number(t);
    });
}

export function parseRegex(source: string, flag: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `${flag} ${JSON.stringify(source)}: invalid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')}); fix the pattern or quote it for the shell`,
    );
  }
}

/** Parsed flags to typed options (validation of values happens here, before /proc is read). */
export function toSnapshotOptions(raw: SnapshotArgs): SnapshotCommandOptions {
  // A single-valued flag given twice: the last one counts (the parsers hand over an array).
  const args = Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) && k !== 'pid' ? v.at(-1) : v]),
  ) as unknown as SnapshotArgs;
  return {
    pids: args.pid === undefined ? undefined : parsePids(args.pid),
    tree: args.tree,
    match: args.match === undefined ? undefined : parseRegex(args.match, '--match'),
    user: args.user,
    totals: args.totals,
    abbreviate: args.abbreviate,
    sort: args.sort,
    reverse: args.reverse,
    columns: args.columns,
    noHeader: args['no-header'],
    json: args.json,
    raw: args.raw,
    mappings: args.mappings,
    group: args.group,
  };
}
