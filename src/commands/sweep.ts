import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { badArgument, MemcompareError } from '../errors.js';
import type { Io } from '../memory.js';
import { renderSweep } from '../render/sweep.js';
import { progressBar } from '../render/units.js';
import { analyzeSweep, predictTotalPss } from '../results/sweep.js';
import type { ResultsDocument } from '../results/types.js';
import { parseSize } from './check.js';
import { type FlagValues, type SWEEP_FLAGS, subRunOptions } from './flags.js';
import { type RunCommandOptions, runRunCommand } from './run.js';

export type SweepCommandOptions = FlagValues<typeof SWEEP_FLAGS> & { scenario: string | undefined };

/** "1,2,4,8" → [1, 2, 4, 8]: whole numbers from 1 to 256, increasing. */
export function parseCounts(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '')
    throw badArgument('--workers', text ?? '', 'give the worker counts to measure, e.g. --workers 1,2,4,8');
  const items = text.split(',').map((s) => s.trim());
  const counts = items.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  counts.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw badArgument('--workers', items[i], 'each count is a whole number from 1 to 256, e.g. --workers 1,2,4,8');
  });
  for (let i = 1; i < counts.length; i++) {
    if ((counts[i] as number) <= (counts[i - 1] as number))
      throw badArgument('--workers', text, 'give increasing counts, e.g. --workers 1,2,4,8');
  }
  if (counts.length < 2) throw badArgument('--workers', text, 'a line needs at least two counts, e.g. --workers 1,2,4,8');
  return counts;
}

/** `memcompare sweep`: `run` over every variant × worker count, interleaved, then the fit. */
export async function runSweepCommand(o: SweepCommandOptions, io: Io): Promise<number> {
  const counts = parseCounts(o.workers);
  const budgetBytes = o.budget === undefined ? undefined : parseSize(o.budget, '--budget');
  const hostBytes = totalmem();
  const started = Date.now();
  const progressOn = !o.quiet && (o.progress || (io.stderr as NodeJS.WriteStream).isTTY === true);
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let total = 0;
  // --workers is the sweep's own list, not run's count.
  const runOptions: RunCommandOptions = { ...subRunOptions(o, { workers: undefined }), scenario: o.scenario };
  return runRunCommand(runOptions, io, {
    prepare(scenario) {
      const uses = (a: string) => a.includes('{workers}');
      // {workers} in the command, the environment, or the configuration template (a pool size that lives in the server's own file).
      const inTemplate = scenario.configTemplate !== undefined && readFileSync(scenario.configTemplate, 'utf8').includes('{workers}');
      const vary =
        inTemplate || scenario.variants.every((v) => [...(v.command ?? scenario.command), ...v.args, ...Object.values(v.env)].some(uses));
      if (!vary) {
        throw badArgument(
          o.command.length > 0 ? '--command' : 'SCENARIO',
          o.command[0] ?? o.scenario,
          'a sweep needs {workers} where the server takes its worker count (e.g. -w {workers}, or an env value)',
        );
      }
      scenario.detectWorkers = false;
      // A sweep fits memory against worker counts: no throughput phase at each point.
      delete scenario.throughput;
      // Counts in increasing order within a round: the first points tell whether the largest fits.
      scenario.variants = counts.flatMap((n) =>
        scenario.variants.map((v) => ({ ...v, name: `${v.name}@${n}w`, workers: n, point: { variant: v.name, workers: n } })),
      );
      total = scenario.variants.length * (o.runs ?? scenario.runs);
    },
    update(doc: ResultsDocument) {
      const { sweep, warnings } = analyzeSweep(doc, budgetBytes);
      doc.sweep = sweep;
      doc.warnings = [...doc.warnings.filter((w) => w.kind !== 'not-linear'), ...warnings];
      if (progressOn && !doc.complete) {
        const done = doc.variants.reduce((n, v) => n + v.runs.length, 0);
        const elapsed = (Date.now() - started) / 1000;
        const left = done > 0 ? (elapsed / done) * (total - done) : 0;
        const lastV = [...doc.variants].reverse().find((v) => v.runs.length > 0);
        const line = `${progressBar(done / total)} point ${done} of ${total}: ${lastV?.point?.variant} at ${lastV?.point?.workers} workers; ${elapsed.toFixed(0)} s elapsed, ~${left.toFixed(0)} s left`;
        io.stderr.write(tty ? `\r${line}\u001b[K${done === total ? '\n' : ''}` : `${line}\n`);
      }
    },
    guard(doc: ResultsDocument) {
      // Refuse, before booting them, counts the host's memory cannot hold (estimated from the first points).
      const largest = counts.at(-1) as number;
      for (const v of doc.sweep?.variants ?? []) {
        if (v.points.length < 2 || v.points.some((p) => p.workers === largest)) continue;
        const need = predictTotalPss(v, largest);
        if (need > hostBytes * 0.9) {
          throw new MemcompareError(
            'BAD_ARGUMENT',
            `--workers ${largest}: ${v.name} would need about ${(need / 1073741824).toFixed(1)} GiB at ${largest} workers (the fit of its first points), more than this host's ${(hostBytes / 1073741824).toFixed(1)} GiB; drop the larger counts`,
          );
        }
      }
    },
    render: renderSweep,
  });
}
