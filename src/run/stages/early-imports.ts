import { median } from '../../results/aggregate.js';
import type { ImportsRecord } from '../../results/imports.js';
import type { VariantResult } from '../../results/types.js';
import type { Variant } from '../../scenario/scenario.js';
import { measureOnce } from '../measure.js';
import type { RunContext } from './context.js';
import { inheritedEnv } from './imports.js';

/** After-fork imports cheaper than this per worker are not worth naming (the tree's own cut). */
const MIN_MODULE_BYTES = 64 * 1024;
/** A predicted saving under this is not verified: a boot per run for less than a mebibyte. */
const MIN_SAVING_BYTES = 1024 * 1024;

/** The modules a variant's workers imported after the fork that are worth importing before it; none when the saving is small. */
export function modulesToMove(imports: ImportsRecord | undefined): string[] {
  if (!imports || imports.method === null || imports.predictedSavingBytes < MIN_SAVING_BYTES) return [];
  return imports.afterFork.filter((m) => m.bytesPerWorker >= MIN_MODULE_BYTES).map((m) => m.module);
}

/**
 * `run --imports`, the advice applied and verified: the variant again, as `<name>+early-imports`, with a
 * sitecustomize that imports the named modules in the server's first interpreter before any fork (run/
 * early-imports.ts; the app's files untouched), measured as the others were: as many runs, to the common
 * depth, with their soak and throughput phase. The source variant's imports record gets the measured
 * saving beside the predicted one, and the modules that could not move (their import failed) with why.
 */
export async function earlyImportsStage(
  ctx: RunContext,
  source: VariantResult,
  modules: readonly string[],
  runs: number,
): Promise<{ result: VariantResult; stopped: Promise<unknown> }> {
  const { variant } = ctx;
  const early = ctx.deps.imports.early(modules, inheritedEnv(variant.env));
  const name = `${variant.name}+early-imports`;
  const applied: Variant = { ...variant, name, env: { ...variant.env, ...early.env } };
  const result: VariantResult = {
    name,
    command: source.command,
    env: variant.env,
    ...(source.server ? { server: source.server } : {}),
    runs: [],
    earlyImports: { from: variant.name, modules: [...modules], imported: [], failed: [] },
  };
  let previousGone = ctx.previousGone;
  try {
    for (let i = 1; i <= runs; i++) {
      const { record, stopped } = await measureOnce({ ...ctx, variant: applied, index: i, tag: `[${name} ${i}/${runs}]`, previousGone });
      result.runs.push(record);
      previousGone = stopped;
      // The master wrote what it imported before the first worker forked.
      const outcome = early.outcome(record.masterPid);
      if (outcome && result.earlyImports) result.earlyImports = { ...result.earlyImports, ...outcome };
    }
    await previousGone;
  } finally {
    await previousGone.catch(() => {});
    early.remove();
  }
  const total = (v: VariantResult) => median(v.runs.map((r) => r.totals.pssBytes));
  if (source.imports && result.runs.length > 0 && source.runs.length > 0) {
    source.imports.applied = {
      variant: name,
      modules: [...modules],
      predictedSavingBytes: source.imports.predictedSavingBytes,
      measuredSavingBytes: total(source) - total(result),
      failed: result.earlyImports?.failed ?? [],
    };
  }
  return { result, stopped: previousGone };
}
