import { appendFileSync } from 'node:fs';
import {
  DEFAULT_GATE,
  evaluateGate,
  GATE_METRICS,
  type GateOptions,
  type GateRow,
  type GateScope,
  type Metric,
  SCOPES,
} from '../check/gate.js';
import { describeDifference, hostDifferences } from '../check/host-change.js';
import { renderGateMarkdown, renderGateTable } from '../check/render.js';
import { badArgument, ExitCode, MemcompareError } from '../errors.js';
import type { Io } from '../memory.js';
import { checkWritable, writeOutput } from '../persist.js';
import { termText } from '../render/markup.js';
import { mib } from '../render/units.js';
import { terminalWidth } from '../render/width.js';
import { readResults } from '../results/file.js';
import { splitByRevision } from '../results/revisions.js';
import type { ResultsDocument } from '../results/types.js';
import type { CHECK_FLAGS, FlagValues } from './flags.js';

/** `memcompare check`'s options: its flag table (flags.ts) and the results positional. */
export type CheckCommandOptions = FlagValues<typeof CHECK_FLAGS> & { current: string };

/** "2MiB", "2M", "512K", "2048KiB", "1G", or plain bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) throw badArgument(flag, text, 'give a size such as 2MiB, 512K or 1048576 (bytes)');
  const unit = (m[2] ?? 'b').toLowerCase().charAt(0);
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1048576 : unit === 'g' ? 1073741824 : 1;
  return Math.round(Number(m[1]) * factor);
}

function parseList<T extends string>(text: string | undefined, allowed: readonly T[], flag: string, fallback: T[]): T[] {
  if (text === undefined) return fallback;
  const items = text.split(/[\s,]+/).filter((s) => s !== '');
  for (const i of items) if (!allowed.includes(i as T)) throw badArgument(flag, i, `use one or more of: ${allowed.join(', ')}`);
  if (items.length === 0) throw badArgument(flag, text, `use one or more of: ${allowed.join(', ')}`);
  return items as T[];
}

/** The gate's settings from check's flags (calibrate takes the same ones). */
export function gateOptions(
  o: Pick<CheckCommandOptions, 'limit' | 'alpha' | 'metric' | 'scope' | 'floor'> & { throughputLimit?: number },
): GateOptions {
  const limit = o.limit ?? DEFAULT_GATE.limitPercent;
  if (!Number.isFinite(limit) || limit < 0) throw badArgument('--limit', o.limit, 'give a percentage of 0 or more, e.g. --limit 5');
  const throughputLimit = o.throughputLimit ?? DEFAULT_GATE.throughputLimitPercent;
  if (!Number.isFinite(throughputLimit) || throughputLimit < 0 || throughputLimit >= 100)
    throw badArgument('--throughput-limit', o.throughputLimit, 'give a percentage from 0 to under 100, e.g. --throughput-limit 5');
  const alpha = o.alpha ?? DEFAULT_GATE.alpha;
  if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1)
    throw badArgument('--alpha', o.alpha, 'give a significance level between 0 and 1, e.g. 0.05');
  return {
    metrics: parseList<Metric>(o.metric, GATE_METRICS, '--metric', DEFAULT_GATE.metrics),
    scopes: parseList<GateScope>(o.scope, SCOPES, '--scope', DEFAULT_GATE.scopes),
    limitPercent: limit,
    floorBytes: o.floor === undefined ? DEFAULT_GATE.floorBytes : parseSize(o.floor, '--floor'),
    alpha,
    throughputLimitPercent: throughputLimit,
  };
}

/** `memcompare check`: 0 pass, 1 regression, 2 bad input, 4 inconclusive. */
export async function runCheckCommand(o: CheckCommandOptions, io: Io): Promise<number> {
  const options = gateOptions(o);
  if (o.summary) checkWritable(o.summary, '--summary');
  const doc = readResults(o.current, 'CURRENT');
  let baseline: ResultsDocument;
  let current: ResultsDocument;
  // Base and head of one interleaved run are compared run by run; documents from separate runs are not.
  let paired = false;
  if (o.baseline === undefined) {
    // One document of `run --baseline-ref`: head against base, measured on the same host in one run.
    const split = splitByRevision(doc);
    if (!split) {
      throw badArgument(
        'CURRENT',
        o.current,
        'has no base revision to compare with; make it with memcompare run --baseline-ref REF, or pass --baseline FILE',
      );
    }
    ({ base: baseline, head: current } = split);
    paired = !o.unpaired;
  } else {
    baseline = readResults(o.baseline, '--baseline');
    current = doc;
    const differences = hostDifferences(baseline.host, current.host);
    const blocking = differences.filter((d) => d.blocking);
    if (blocking.length > 0 && !o.allowHostChange) {
      throw new MemcompareError(
        'BAD_RESULTS',
        `--baseline ${JSON.stringify(o.baseline)}: measured on another host or software (${blocking.map(describeDifference).join('; ')}); PSS moves with these: measure base and head on one runner (memcompare run --baseline-ref REF), or pass --allow-host-change to compare anyway`,
      );
    }
    for (const d of differences) {
      (o.json ? io.stderr : io.stdout).write(
        `note: ${describeDifference(d)}${d.blocking ? ' (accepted with --allow-host-change)' : ' (does not move memory)'}\n`,
      );
    }
  }
  if (o.maxPeakFraction !== undefined && !(o.maxPeakFraction > 0 && o.maxPeakFraction <= 1))
    throw badArgument('--max-peak-fraction', o.maxPeakFraction, 'give a fraction of the limit, more than 0 and at most 1, e.g. 0.8');
  const rows = evaluateGate(baseline, current, options, paired);
  const title = `Memory check: ${current.scenario.name}`;
  if (o.json) io.stdout.write(`${JSON.stringify({ options, rows }, null, 2)}\n`);
  const stream = o.json ? io.stderr : io.stdout;
  stream.write(renderGateTable(rows, terminalWidth(stream)));
  const md = renderGateMarkdown(rows, title);
  if (o.summary) await writeOutput(o.summary, md);
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) appendFileSync(stepSummary, `${md}\n`);
  const overLimit = o.maxPeakFraction === undefined ? [] : peaksOverLimit(current, o.maxPeakFraction);
  if (o.maxPeakFraction !== undefined) {
    const limited = current.variants.some((v) => v.runs.some((r) => r.container?.limitBytes));
    stream.write(
      !limited
        ? `memcompare check: --max-peak-fraction ${o.maxPeakFraction}: no run had a container memory limit; not applied\n`
        : overLimit.length > 0
          ? `memcompare check: FAIL — ${overLimit.join('; ')}\n`
          : `memcompare check: every peak is within ${(o.maxPeakFraction * 100).toFixed(0)}% of its container's limit\n`,
    );
  }
  return gateExitCode(rows, overLimit.length > 0);
}

/** 1 when any row regressed (or a peak is over its limit), else 4 when any row is undecided, else 0. */
export function gateExitCode(rows: readonly GateRow[], overLimit = false): number {
  if (overLimit || rows.some((r) => r.verdict === 'regression')) return ExitCode.regression;
  return rows.some((r) => r.verdict === 'inconclusive') ? ExitCode.inconclusive : ExitCode.ok;
}

/** Runs whose peak exceeds the fraction of their container's limit, described. */
function peaksOverLimit(doc: ResultsDocument, fraction: number): string[] {
  return doc.variants.flatMap((v) =>
    v.runs.flatMap((r) => {
      const limit = r.container?.limitBytes;
      const peak = r.soak?.peakTotalPssBytes ?? r.container?.peakBytes ?? undefined;
      if (!limit || peak === undefined || peak === null || peak <= fraction * limit) return [];
      return [
        `${termText(v.name)} run ${r.index}: peak ${mib(peak)} is ${((peak * 100) / limit).toFixed(0)}% of the container's limit ${mib(limit)} (at most ${(fraction * 100).toFixed(0)}% asked)`,
      ];
    }),
  );
}
