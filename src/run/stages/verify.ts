import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '../../results/events.js';
import { HEADROOM, workerPeakUss } from '../../results/lifetime.js';
import type { ResultsDocument, SoakRecord, VerificationRecord } from '../../results/types.js';
import type { Scenario } from '../../scenario/scenario.js';
import type { ServerFamily } from '../../servers/family.js';
import { familyNamed } from '../../servers/registry.js';
import { runScenario } from '../engine.js';
import type { RunDeps } from '../seams.js';

/** What the verifying soaks run with: the run's world, its signal and events, and the family. */
export interface VerifyOptions {
  deps: RunDeps;
  signal?: AbortSignal;
  version?: string;
  onEvent?: (event: RunEvent) => void;
  family?: ServerFamily;
}

/** The verifying soaks of one round: each variant run once; the soak of each, by variant name. */
async function soakOnce(scenario: Scenario, variants: Scenario['variants'], options: VerifyOptions) {
  const { family, deps, ...rest } = options;
  const checked = await runScenario({ ...scenario, variants }, { ...rest, runs: 1, ...(family ? { family } : {}) }, deps);
  return (name: string) => checked.variants.find((x) => x.name === name)?.runs[0]?.soak;
}

/** A round's record: every worker's peak USS (exits included) against the limit. */
function roundRecord(
  variant: string,
  round: number,
  setting: string,
  args: string[],
  limitBytes: number,
  soak: SoakRecord | undefined,
): VerificationRecord {
  // Every worker's peak: its samples, its exit watched, and the routes' close reads (a transient peak).
  const closely = { ...soak?.routes?.peakUssBytes };
  for (const [pid, u] of Object.entries(soak?.exitPeakUssBytes ?? {})) closely[pid] = Math.max(closely[pid] ?? 0, u);
  const peaks = soak ? workerPeakUss(soak.timeline, closely) : [];
  return {
    variant,
    round,
    setting,
    args,
    limitBytes,
    workerPeakUssBytes: peaks,
    replacements: soak?.replacements?.length ?? 0,
    within: peaks.length > 0 && peaks.every((u) => u <= limitBytes),
    ...(soak?.exitCopy ? { exitCopy: soak.exitCopy } : {}),
  };
}

/** A variant with arguments added at the end of its command (argparse-style servers accept them there). */
const withArgs = (v: Scenario['variants'][number], args: string[], name: string) =>
  v.command ? { ...v, name, command: [...v.command, ...args] } : { ...v, name, args: [...v.args, ...args] };

async function verifyAdvice(
  doc: ResultsDocument,
  scenario: Scenario,
  family: ServerFamily | undefined,
  limitBytes: number,
  options: VerifyOptions,
): Promise<VerificationRecord[]> {
  const recycling = (family ?? familyNamed(scenario.server))?.recycling;
  const toArgs = recycling?.args;
  if (!recycling || !toArgs) return [];
  const plan = (v: Scenario['variants'][number], requests: number, bytesPerRequest: number, round: number) => {
    const args = toArgs(requests);
    return {
      variant: withArgs(v, args, `${v.name}+recycling${round > 1 ? `-${round}` : ''}`),
      setting: recycling.text(requests),
      args,
      from: v,
      requests,
      bytesPerRequest,
    };
  };
  let plans = scenario.variants.flatMap((v) => {
    const advice = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice;
    return advice?.setting && advice.requests !== null ? [plan(v, advice.requests, advice.bytesPerRequest, 1)] : [];
  });
  const records: VerificationRecord[] = [];
  // A closed loop: a round whose peak is over the limit lowers the setting by the requests its overshoot
  // took (overshoot ÷ growth per request, the limit less the headroom as the target), at most three rounds.
  for (let round = 1; round <= 3 && plans.length > 0; round++) {
    const soakOf = await soakOnce(
      scenario,
      plans.map((p) => p.variant),
      options,
    );
    const next: typeof plans = [];
    for (const p of plans) {
      const record = roundRecord(p.from.name, round, p.setting, p.args, limitBytes, soakOf(p.variant.name));
      records.push(record);
      if (record.within || record.workerPeakUssBytes.length === 0) continue;
      const overshoot = Math.max(...record.workerPeakUssBytes) - limitBytes * (1 - HEADROOM);
      const lowered = p.requests - Math.ceil(overshoot / Math.max(1, p.bytesPerRequest));
      if (lowered >= 1) next.push(plan(p.from, lowered, p.bytesPerRequest, round + 1));
    }
    plans = next;
  }
  return records;
}

/**
 * The memory-watching setting, verified where the family takes it on the command line: one soak with it
 * (instead of the request count), recorded as a round with `byRss`: every worker's peak against the
 * limit, and the workers recycled at birth (replaced after serving fewer than 2 requests: a threshold
 * under what a fresh worker already reports).
 */
async function verifyMemorySetting(
  doc: ResultsDocument,
  scenario: Scenario,
  family: ServerFamily | undefined,
  limitBytes: number,
  records: VerificationRecord[],
  options: VerifyOptions,
): Promise<void> {
  const toArgs = family?.memoryRecycling?.args;
  if (!toArgs) return;
  const plans = scenario.variants.flatMap((v) => {
    const memory = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice?.memory;
    if (!memory?.setting) return [];
    const args = toArgs(memory.thresholdBytes);
    return [{ from: v, memory, setting: memory.setting, args, variant: withArgs(v, args, `${v.name}+rss-recycling`) }];
  });
  if (plans.length === 0) return;
  const soakOf = await soakOnce(
    scenario,
    plans.map((p) => p.variant),
    options,
  );
  for (const p of plans) {
    const soak = soakOf(p.variant.name);
    const round = Math.max(0, ...records.filter((r) => r.variant === p.from.name).map((r) => r.round)) + 1;
    records.push({
      ...roundRecord(p.from.name, round, p.setting, p.args, limitBytes, soak),
      byRss: {
        thresholdBytes: p.memory.thresholdBytes,
        recycledAtBirth: recycledAtBirth(soak?.replacements ?? []),
      },
    });
  }
}

/**
 * Workers a memory threshold recycled at birth: born in the soak (a replacement's new worker) and replaced
 * again after fewer than 2 requests. A worker of the warm-up replaced at the soak's first request has served
 * the warm-up's requests, which the soak does not count: it was not recycled at birth.
 */
export function recycledAtBirth(replacements: readonly { oldPid: number; newPid: number | null; oldRequests: number }[]): number {
  const born = new Set(replacements.map((r) => r.newPid));
  return replacements.filter((r) => born.has(r.oldPid) && r.oldRequests < 2).length;
}

/** An exit copy smaller than this is not worth a remedy round. */
const REMEDY_MIN_COPY_BYTES = 1024 * 1024;

/**
 * The exit remedy, measured where the family has one (a hook that ends the worker without finalization)
 * and the soak saw a worker copy at least 1 MiB at its exit: one more soak with the verified setting
 * and the remedy applied (in a config file of memcompare's own that loads the user's), recorded as a
 * verification round with `remedy`. Only when the copy measured there is under a quarter of the one
 * without it does the advice say so, with both figures; otherwise it says nothing of it.
 */
async function measureExitRemedy(
  doc: ResultsDocument,
  scenario: Scenario,
  family: ServerFamily | undefined,
  records: VerificationRecord[],
  options: VerifyOptions,
): Promise<void> {
  const remedy = family?.exitRemedy;
  if (!remedy || !family?.recycling?.args) return;
  const dir = mkdtempSync(join(tmpdir(), 'memcompare-remedy-'));
  chmodSync(dir, 0o755);
  try {
    const plans = scenario.variants.flatMap((v) => {
      const advice = doc.variants.find((x) => x.name === v.name)?.runs.at(-1)?.soak?.advice;
      const rounds = records.filter((r) => r.variant === v.name && !r.remedy && !r.byRss);
      const last = rounds.find((r) => r.within) ?? rounds.at(-1);
      if (!advice || !last || advice.exitCopyBytes < REMEDY_MIN_COPY_BYTES) return [];
      const whole = v.command ?? [...scenario.command, ...v.args];
      const command = [...remedy.apply(whole, dir, v.cwd ?? scenario.cwd), ...last.args];
      return [{ from: v, advice, last, variant: { ...v, name: `${v.name}+exit-remedy`, command, args: [] } }];
    });
    if (plans.length === 0) return;
    const soakOf = await soakOnce(
      scenario,
      plans.map((p) => p.variant),
      options,
    );
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    for (const p of plans) {
      const soak = soakOf(p.variant.name);
      const measured = soak?.exitCopy?.source === 'measured' ? soak.exitCopy : undefined;
      // Without the remedy: as measured in the round it repeats (the same setting), else the advice's figure.
      const without =
        p.last.exitCopy?.source === 'measured' ? p.last.exitCopy : { bytes: p.advice.exitCopyBytes, source: p.advice.exitCopySource };
      const round = Math.max(0, ...records.filter((r) => r.variant === p.from.name).map((r) => r.round)) + 1;
      records.push({
        ...roundRecord(p.from.name, round, p.last.setting, p.last.args, p.last.limitBytes, soak),
        remedy: { text: remedy.text, exitCopyBytes: measured?.bytes ?? null, exits: measured?.count ?? 0, withoutBytes: without.bytes },
      });
      if (measured && measured.bytes < without.bytes / 4) {
        p.advice.remedy = { text: remedy.text, exitCopyBytes: measured.bytes, exits: measured.count };
        p.advice.text += `; to save the exit copy, ${remedy.text} (measured: a worker copied ${mib(measured.bytes)} at its exit instead of ${mib(without.bytes)}${without.source === 'predicted' ? ' (predicted)' : ''}, over ${measured.count} exit${measured.count === 1 ? '' : 's'})`;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stage 9 (`run --verify`), verify: each variant with advice soaked again with the advised setting on its
 * command line, every worker's peak USS (replacements included) against the limit; a round over the limit
 * lowers the setting (at most three rounds); then the memory-watching setting and the exit remedy where the
 * family has them. `persist` gets the document after each step.
 */
export async function verifyStage(
  doc: ResultsDocument,
  scenario: Scenario,
  limitBytes: number,
  options: VerifyOptions,
  persist: (doc: ResultsDocument) => void,
): Promise<void> {
  const family = options.family ?? familyNamed(scenario.server);
  doc.verification = await verifyAdvice(doc, scenario, family, limitBytes, options);
  persist(doc);
  await verifyMemorySetting(doc, scenario, family, limitBytes, doc.verification, options);
  persist(doc);
  await measureExitRemedy(doc, scenario, family, doc.verification, options);
  persist(doc);
}
