import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { launchStage } from '../../../../src/run/stages/launch.js';
import { readyStage } from '../../../../src/run/stages/ready.js';
import { reloadStage } from '../../../../src/run/stages/reload.js';
import { contextOf, makeWorld, scenarioOf } from '../world.js';

describe('stage: reload', () => {
  it("edits the app's copy (never the user's), signals through the launcher, waits for new workers and asks again", async (t) => {
    const app = mkdtempSync(join(tmpdir(), 'memcompare-reload-test-'));
    t.after(() => rmSync(app, { recursive: true, force: true }));
    writeFileSync(join(app, 'app.py'), "VERSION = 'v1'\n");
    const world = makeWorld();
    const answers = ['v1', 'v2'];
    world.deps.wire.body = async () => answers.shift();
    const scenario = { ...scenarioOf(['a'], 1), cwd: app, server: 'gunicorn' };
    scenario.reload = { signal: 'SIGHUP', path: '/', timeoutMs: 5000, edit: { file: 'app.py', replace: 'v1', with: 'v2' } };
    const ctx = contextOf(world, scenario);
    const b = await launchStage(ctx);
    t.after(() => b.appCopy?.remove());
    const ready = await readyStage(ctx, b);
    const sample = world.deps.memory.sample(b.server, ctx.family);
    const record = await reloadStage(ctx, b, sample);
    assert.equal(readFileSync(join(app, 'app.py'), 'utf8'), "VERSION = 'v1'\n", "the user's file is untouched");
    assert.equal(readFileSync(join(b.appCopy?.dir ?? '', 'app.py'), 'utf8'), "VERSION = 'v2'\n");
    assert.ok(world.events.includes(`signal SIGHUP ${b.server.pid}`));
    assert.equal(record.workersReplaced, 2);
    assert.ok(
      ready.workerPids.every((p) => !world.servers[0]?.workers.includes(p)),
      'every worker is new',
    );
    assert.equal(record.stale, false);
    assert.deepEqual(
      ctx.events.filter((e) => e.stage.startsWith('reload')).map((e) => e.stage),
      ['reload-signal', 'reload'],
    );
  });
});
