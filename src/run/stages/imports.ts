import { type ImportsRecord, importsRecord, notProbed } from '../../results/imports.js';
import type { Scenario, Variant } from '../../scenario/scenario.js';
import type { InheritedEnv } from '../import-probe.js';
import { measureOnce } from '../measure.js';
import type { RunContext } from './context.js';

/** The search path and options the variant's interpreter would have had: its own environment's, else memcompare's. */
export function inheritedEnv(env: Record<string, string>): InheritedEnv {
  return { PYTHONPATH: env.PYTHONPATH ?? process.env.PYTHONPATH, RUBYOPT: env.RUBYOPT ?? process.env.RUBYOPT };
}

/**
 * `run --imports`, after the measured runs: one more boot of a variant with the import probe on its
 * PYTHONPATH (the app's files are not touched), warmed and settled as the measured runs were (a view that
 * imports on its first request imports in the workers), then stopped. Its memory is not one of the runs:
 * the probe costs the interpreter a read of smaps_rollup per first import. A family whose interpreter is
 * not instrumented gets its reason instead.
 */
export async function importsStage(ctx: RunContext): Promise<{ record: ImportsRecord; stopped: Promise<unknown> }> {
  const { family, variant } = ctx;
  if (!family.importProbe)
    return { record: notProbed(family.none.importProbe ?? 'its interpreter is not instrumented'), stopped: ctx.previousGone };
  const probe = ctx.deps.imports.prepare(inheritedEnv(variant.env));
  try {
    // No soak, throughput phase or reload: the boot answers which imports, not how much under load.
    const scenario: Scenario = { ...ctx.scenario };
    delete scenario.soak;
    delete scenario.throughput;
    delete scenario.reload;
    const probed: Variant = { ...variant, env: { ...variant.env, ...probe.env } };
    const { record, stopped } = await measureOnce({ ...ctx, scenario, variant: probed });
    await stopped;
    const workers = record.processes.filter((p) => p.role === 'worker').length;
    const result = importsRecord(probe.read(), record.masterPid, family.importProbe.method, workers);
    const argv = [...(variant.command ?? ctx.scenario.command), ...variant.args];
    const preloaded = family.importProbe.preloaded?.(argv, variant.cwd ?? ctx.scenario.cwd);
    return {
      record: {
        ...result,
        ...(preloaded !== undefined ? { preloaded } : {}),
        ...(preloaded === false ? { predictedPreloadSavingBytes: result.predictedSavingBytes } : {}),
      },
      stopped,
    };
  } finally {
    probe.remove();
  }
}
