import { parseArgs } from 'node:util';
import { runSnapshotCommand } from '../commands/snapshot.js';
import { SNAPSHOT_FLAGS, type SnapshotArgs, toSnapshotOptions } from '../commands/snapshot-options.js';
import { reportError } from '../errors.js';
import type { Io } from '../memory.js';

/**
 * Start-up fast path for `memcompare snapshot`, the command users run in loops: the same flags
 * (SNAPSHOT_FLAGS) parsed with node's built-in parseArgs, so yargs is not even loaded. Anything
 * it does not handle plainly (help, version, an unknown or malformed flag) returns undefined and the
 * full yargs CLI takes over, with its messages.
 */
export function tryFastSnapshot(argv: string[], io: Io): number | undefined {
  if (argv[0] !== 'snapshot' || argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return undefined;
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(SNAPSHOT_FLAGS)) {
    options[name] = {
      type: f.type,
      ...('alias' in f && typeof f.alias === 'string' ? { short: f.alias } : {}),
      ...('array' in f ? { multiple: true } : {}),
    };
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv.slice(1), options, strict: true, allowPositionals: false }));
  } catch {
    return undefined;
  }
  const args = { ...values } as Record<string, unknown>;
  for (const [name, f] of Object.entries(SNAPSHOT_FLAGS)) if (args[name] === undefined && 'default' in f) args[name] = f.default;
  try {
    return runSnapshotCommand(toSnapshotOptions(args as SnapshotArgs), io);
  } catch (error) {
    return reportError(error, io);
  }
}
