import { calibrate } from '../check/calibrate.js';
import { renderCalibration } from '../check/render.js';
import { badArgument } from '../errors.js';
import type { Io } from '../memory.js';
import { terminalWidth } from '../render/width.js';
import { readResults } from '../results/file.js';
import { splitByRevision } from '../results/revisions.js';
import { checkFlag, LIMITS } from '../scenario/limits.js';
import { gateOptions } from './check.js';
import { type CALIBRATE_FLAGS, type FlagValues, subRunOptions } from './flags.js';
import { type RunCommandOptions, runRunCommand } from './run.js';

export type CalibrateCommandOptions = FlagValues<typeof CALIBRATE_FLAGS> & { scenario: string | undefined };

/** The false-alarm rate is a count over comparisons: fewer than this many says little. */
const PAIRS = { min: 1, max: 200, integer: true, default: 20, unit: 'comparisons' } as const;
const RUNS = { ...LIMITS.runs, max: 50, default: 5 } as const;

/**
 * `memcompare calibrate`: the same code as base and head, interleaved (pairs × runs rounds), cut into
 * `pairs` comparisons of `runs` runs per side and judged by check's gate: how often it fails unchanged
 * code on this runner, how noisy each row is, and the smallest change it would catch.
 */
export async function runCalibrateCommand(o: CalibrateCommandOptions, io: Io): Promise<number> {
  const options = gateOptions(o);
  checkFlag('--pairs', o.pairs, PAIRS);
  checkFlag('--runs', o.runs, RUNS);
  const pairs = o.pairs ?? PAIRS.default;
  const runsPerSide = o.runs ?? RUNS.default;
  if (o.from !== undefined) {
    if (o.scenario !== undefined || o.command.length > 0)
      throw badArgument('--from', o.from, 'judges runs already measured: give it without a scenario or --command');
    const doc = readResults(o.from, '--from');
    if (!splitByRevision(doc))
      throw badArgument('--from', o.from, 'has no A/A runs (base and head); make it with memcompare calibrate SCENARIO --json FILE');
    io.stdout.write(renderCalibration(calibrate(doc, runsPerSide, options), doc.scenario.name, terminalWidth(io.stdout)));
    return 0;
  }
  const runOptions: RunCommandOptions = { ...subRunOptions(o, { runs: pairs * runsPerSide }), scenario: o.scenario };
  return runRunCommand(runOptions, io, {
    prepare(scenario) {
      // The gate's noise is memory's: no throughput phase in the A/A runs.
      delete scenario.throughput;
      // A/A: every variant twice, both in the working tree, as `run --baseline-ref` would pair them.
      const same = { ref: 'working tree', commit: '', dirty: false };
      scenario.variants = scenario.variants.flatMap((v) => [
        { ...v, name: `${v.name}@base`, revision: { role: 'base' as const, ...same } },
        { ...v, revision: { role: 'head' as const, ...same } },
      ]);
    },
    update() {},
    render: (doc, width) => renderCalibration(calibrate(doc, runsPerSide, options), doc.scenario.name, width),
  });
}
