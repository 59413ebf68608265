import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { realClock } from '../clock.js';
import type { ReloadRecord, SettleSettings, WarmupSettings } from '../results/types.js';
import type { ReloadSettings } from '../scenario/scenario.js';
import type { ServerFamily } from '../servers/family.js';
import { fetchBody } from './http-probe.js';
import { waitReady } from './ready.js';
import { type RunDeps, realProc, type ServerHandle } from './seams.js';
import { settle } from './settle.js';
import { sampleTree, type TreeSample } from './tree-sample.js';
import { autocannonLoad, warmUp } from './warm.js';

/**
 * A copy of the app folder for a reload run: the edit goes there, never into the user's files.
 * Bytecode caches are left out and not written (PYTHONDONTWRITEBYTECODE in the server's
 * environment): a same-size edit in the same second could otherwise be served from a stale .pyc.
 */
export function copyApp(dir: string): { dir: string; remove(): void } {
  const copy = mkdtempSync(join(tmpdir(), `memcompare-reload-${basename(dir)}-`));
  cpSync(dir, copy, { recursive: true, filter: (src) => basename(src) !== '__pycache__' && basename(src) !== '.git' });
  return { dir: copy, remove: () => rmSync(copy, { recursive: true, force: true }) };
}

export interface ReloadContext {
  server: ServerHandle;
  adapter: ServerFamily;
  port: number;
  settings: ReloadSettings;
  /** The app folder the server runs in (the copy). */
  appDir: string;
  workerPids: number[];
  warmup: WarmupSettings;
  settle: SettleSettings;
  totalPssBeforeBytes: number;
  signal?: AbortSignal;
  say: (line: string) => void;
  /** The run's seams (the real ones when absent). */
  deps?: Pick<RunDeps, 'proc' | 'clock' | 'load' | 'memory'>;
}

/**
 * Asks `path`, edits the app, sends the reload signal, waits until every worker has been replaced
 * and is ready, warms the new workers, asks `path` again, settles and samples. The reload is stale
 * when the new workers still answer what the old ones did.
 */
export async function measureReload(ctx: ReloadContext): Promise<{ record: ReloadRecord; sample: TreeSample }> {
  const { server, adapter, port, settings: s } = ctx;
  const deps = ctx.deps ?? { proc: realProc, clock: realClock, load: autocannonLoad, memory: { sample: sampleTree } };
  const before = (await fetchBody(port, s.path)) ?? '';
  const file = join(ctx.appDir, s.edit.file);
  writeFileSync(file, readFileSync(file, 'utf8').replace(s.edit.replace, s.edit.with));
  const t0 = deps.clock.now();
  ctx.say(`reload: ${s.edit.file} edited; ${s.signal} to pid ${server.pid}`);
  process.kill(server.pid, s.signal);
  const ready = await waitReady(
    server,
    adapter,
    { port, path: s.path, workers: ctx.workerPids.length, timeoutMs: s.timeoutMs, excludeWorkers: new Set(ctx.workerPids) },
    ctx.signal,
    { proc: deps.proc, clock: deps.clock },
  );
  const reloadMs = deps.clock.now() - t0;
  await warmUp(port, ctx.warmup, ready.workerPids, ctx.signal, { load: deps.load, proc: deps.proc });
  const after = (await fetchBody(port, s.path)) ?? '';
  const { sample } = await settle(
    { server, sample: () => deps.memory.sample(server, adapter) },
    ready.workerPids.length,
    ctx.settle,
    ctx.signal,
    deps.clock,
  );
  return {
    sample,
    record: {
      signal: s.signal,
      file: s.edit.file,
      path: s.path,
      before,
      after,
      stale: after === before,
      workersReplaced: ready.workerPids.length,
      masterReplaced: !sample.processes.some((p) => p.pid === server.pid && p.role === 'master'),
      reloadMs,
      totalPssBeforeBytes: ctx.totalPssBeforeBytes,
      totalPssAfterBytes: sample.snapshot.totals.pssBytes,
    },
  };
}
