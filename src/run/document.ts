import { RESULTS_SCHEMA_VERSION, type ResultsDocument } from '../results/types.js';
import { throughputConnections } from '../scenario/limits.js';
import type { Scenario } from '../scenario/scenario.js';
import type { ServerFamily } from '../servers/family.js';

/** The document before any run: settings used, host to be filled in, no variant measured. */
export function emptyDocument(scenario: Scenario, family: ServerFamily, runs: number, version: string, startedAt: Date): ResultsDocument {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'memcompare', version },
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    complete: false,
    scenario: {
      name: scenario.name,
      description: scenario.description,
      server: family.name,
      workers: scenario.workers,
      runs,
      warmup: scenario.warmup,
      settle: scenario.settle,
      ...(scenario.soak ? { soak: scenario.soak } : {}),
      ...(scenario.throughput
        ? { throughput: { ...scenario.throughput, connections: throughputConnections(scenario.throughput, scenario.workers) } }
        : {}),
      ...(scenario.file ? { file: scenario.file } : {}),
    },
    host: { os: '', kernel: '', cpu: '', cores: 0, memoryBytes: 0, node: process.version, server: '' },
    variants: scenario.variants.map((v) => ({
      name: v.name,
      command: v.command ?? [...scenario.command, ...v.args],
      env: v.env,
      ...(v.revision ? { revision: v.revision } : {}),
      ...(v.point ? { point: v.point } : {}),
      ...(v.server ? { server: v.server } : {}),
      runs: [],
    })),
    summary: { variants: [], comparisons: [] },
    warnings: [],
  };
}
