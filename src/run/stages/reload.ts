import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ReloadRecord } from '../../results/types.js';
import type { ReloadSettings } from '../../scenario/scenario.js';
import { waitReady } from '../ready.js';
import { settle } from '../settle.js';
import type { TreeSample } from '../tree-sample.js';
import type { Booted, RunContext } from './context.js';
import { warmWorkers } from './warm.js';

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

/**
 * Stage 7 (optional), reload: asks `path`, edits the app copy, sends the reload signal, waits until every
 * worker has been replaced and is ready, warms the new workers, asks `path` again, settles and samples.
 * The reload is stale when the new workers still answer what the old ones did.
 */
export async function reloadStage(ctx: RunContext, b: Booted, sample: TreeSample): Promise<ReloadRecord> {
  const { deps, family } = ctx;
  const { server, port } = b;
  const s = ctx.scenario.reload as ReloadSettings;
  const workerPids = sample.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
  const before = (await deps.wire.body(port, s.path)) ?? '';
  const file = join((b.appCopy as { dir: string }).dir, s.edit.file);
  writeFileSync(file, readFileSync(file, 'utf8').replace(s.edit.replace, s.edit.with));
  const t0 = deps.clock.now();
  ctx.emit({ stage: 'reload-signal', tag: ctx.tag, file: s.edit.file, signal: s.signal, pid: server.pid });
  deps.launcher.signal(server, s.signal);
  const ready = await waitReady(
    server,
    family,
    { port, path: s.path, workers: workerPids.length, timeoutMs: s.timeoutMs, excludeWorkers: new Set(workerPids) },
    ctx.options.signal,
    { proc: deps.proc, clock: deps.clock, probe: () => deps.wire.probe(b.protocol.name, { port }, b.warmup) },
  );
  const reloadMs = deps.clock.now() - t0;
  await warmWorkers(ctx, b, ready.workerPids);
  const after = (await deps.wire.body(port, s.path)) ?? '';
  const settled = await settle(
    { server, sample: () => deps.memory.sample(server, family) },
    ready.workerPids.length,
    ctx.scenario.settle,
    ctx.options.signal,
    deps.clock,
  );
  const record: ReloadRecord = {
    signal: s.signal,
    file: s.edit.file,
    path: s.path,
    before,
    after,
    stale: after === before,
    workersReplaced: ready.workerPids.length,
    masterReplaced: !settled.sample.processes.some((p) => p.pid === server.pid && p.role === 'master'),
    reloadMs,
    totalPssBeforeBytes: sample.snapshot.totals.pssBytes,
    totalPssAfterBytes: settled.sample.snapshot.totals.pssBytes,
  };
  ctx.emit({ stage: 'reload', tag: ctx.tag, record });
  return record;
}
