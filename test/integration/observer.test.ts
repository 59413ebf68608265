import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../src/memory.js';
import { childrenOf } from '../../src/proc/tree.js';
import { freeLoopbackPort, launch } from '../../src/run/launch.js';
import { stopServer } from '../../src/run/stop.js';
import { phpFpm } from '../../src/servers/php-fpm.js';
import { cli, tempDir } from '../helpers.js';

const WORKERS = 4;

/** The master's Pss and Private_* from its smaps_rollup, kB, read by this process (no new reader is started). */
function rollup(pid: number): { pss: number; uss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { pss: kb('Pss'), uss: kb('Private_Clean') + kb('Private_Dirty') };
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * memcompare's Node process maps libstdc++, libm and libgcc_s, which php-fpm maps too: while it reads, those
 * pages are split one way more. The test's own Node process is there in both readings below, so the only
 * difference between the rollup it reads itself and memcompare's figure is memcompare's own share.
 */
describe("the observer's share: snapshot reads php-fpm as it is without memcompare", { timeout: 120_000 }, () => {
  it('the corrected master PSS is within 0.5% of its smaps_rollup read while memcompare is not running; --raw is farther', async (t) => {
    const tmp = tempDir('memcompare-observer-');
    chmodSync(tmp, 0o755);
    const port = await freeLoopbackPort();
    const conf = join(tmp, 'pool.conf');
    writeFileSync(
      conf,
      `[global]\ndaemonize = no\n[t]\nlisten = 127.0.0.1:${port}\nuser = nobody\ngroup = nogroup\npm = static\npm.max_children = ${WORKERS}\n`,
    );
    const server = await launch({ argv: ['php-fpm8.2', '-F', '-O', '-y', conf], cwd: tmp, env: {} });
    t.after(() => stopServer(server, phpFpm));
    const master = server.pid;
    const children = await until(
      'php-fpm started its children',
      () => {
        const c = childrenOf(master) ?? [];
        return c.length === WORKERS ? c : undefined;
      },
      30_000,
    );
    assert.match(readFileSync(`/proc/${master}/maps`, 'utf8'), /libstdc\+\+/, 'php-fpm maps libstdc++ (the premise)');

    // Stopped, the tree maps nothing new between the readings.
    const tree = [master, ...children];
    for (const pid of tree) process.kill(pid, 'SIGSTOP');
    let hand1: { pss: number; uss: number };
    let hand2: { pss: number; uss: number };
    let ours: Snapshot;
    let raw: Snapshot;
    try {
      hand1 = rollup(master);
      const r = cli(['snapshot', '--pid', String(master), '--json']);
      assert.equal(r.status, 0, r.stderr);
      ours = JSON.parse(r.stdout) as Snapshot;
      const rr = cli(['snapshot', '--pid', String(master), '--json', '--raw']);
      assert.equal(rr.status, 0, rr.stderr);
      raw = JSON.parse(rr.stdout) as Snapshot;
      hand2 = rollup(master);
    } finally {
      for (const pid of tree) process.kill(pid, 'SIGCONT');
    }
    assert.deepEqual(hand2, hand1, 'the stopped master read the same before and after memcompare');
    const o = ours.processes[0];
    const w = raw.processes[0];
    assert.ok(o && w, 'the master was read');
    assert.equal(ours.observer?.method, 'pagemap', 'as root, the exact method');
    assert.equal(raw.observer, undefined, '--raw records no correction');
    assert.ok((o.observer?.pssBytes ?? 0) > 0, "memcompare's share was found");
    const hand = hand1.pss;
    const off = (kb: number) => Math.abs(kb - hand) / hand;
    const corrected = o.pssBytes / 1024;
    const uncorrected = w.pssBytes / 1024;
    const said = `hand ${hand} kB, corrected ${corrected} kB, raw ${uncorrected} kB`;
    t.diagnostic(said);
    assert.ok(off(corrected) <= 0.005, `corrected within 0.5%: ${said}`);
    assert.ok(off(corrected) < off(uncorrected), `corrected nearer the hand reading than raw: ${said}`);
    assert.ok(Math.abs(o.ussBytes / 1024 - hand1.uss) / hand1.uss <= 0.005, `USS: hand ${hand1.uss} kB, ours ${o.ussBytes / 1024} kB`);
  });
});
