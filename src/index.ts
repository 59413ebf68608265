// The library entry point (package.json "exports"): what the README's "Library" section names.

export { readProcess } from './proc/process.js';
export { takeSnapshot } from './proc/snapshot.js';
export { renderSmemTable } from './render/smem-table.js';
export { renderComparison, renderRunSummary } from './render/terminal.js';
export { compareVariants, summarizeVariant } from './results/aggregate.js';
export { readResults } from './results/file.js';
export { METRICS } from './results/metrics.js';
export type * from './results/types.js';
export { type RunOptions, runScenario } from './run/engine.js';
export { loadScenario, type Scenario } from './scenario/scenario.js';
