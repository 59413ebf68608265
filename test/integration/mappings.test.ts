import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMappings, sumMappings } from '../../src/proc/mappings.js';
import { readProcess } from '../../src/proc/process.js';
import { withDescendants } from '../../src/proc/tree.js';
import { cli, HeldSmem, startGunicorn, type TestServer, tempDir } from '../helpers.js';

interface Row {
  name: string;
  processes: number;
  pssBytes: number;
  ussBytes: number;
  rssBytes: number;
  swapBytes: number;
}

describe('snapshot --mappings on a real gunicorn tree', { timeout: 300_000 }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startGunicorn({ preload: true });
  });
  after(async () => {
    await srv?.stop();
  });

  it("equals smem -m's per-mapping figures (USS, RSS, Swap exactly; PSS too: both sum smaps)", async () => {
    // The regex matches the servers' command lines, not the held smem's own (which holds "[.]").
    const pattern = `127[.]0[.]0[.]1:${srv.port}`;
    const smem = new HeldSmem(['-m', '-H', '-c', 'map pids swap uss pss rss', '-P', pattern]);
    await smem.ready();
    // Read in this process, which stays alive during smem's read: a reader started for the purpose
    // (node maps libc, libgcc, …) would lower the servers' PSS of those files while it reads.
    const ours = (): Row[] => sumMappings(withDescendants([srv.server.pid]).flatMap((pid) => readMappings(pid) ?? []));
    const before1 = ours();
    const text = await smem.run();
    const after1 = ours();
    await smem.finish();
    // smem prints names cut to 40 characters: compare by that.
    const byName = (rows: Row[]) => {
      const m = new Map<string, number[]>();
      for (const r of rows) {
        const k = r.name.slice(0, 40).trimEnd();
        const v = m.get(k) ?? [0, 0, 0, 0, 0];
        const add = [r.processes, r.swapBytes / 1024, r.ussBytes / 1024, r.pssBytes / 1024, r.rssBytes / 1024];
        m.set(
          k,
          v.map((x, i) => x + (add[i] as number)),
        );
      }
      return m;
    };
    const theirs = new Map<string, number[]>();
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      const name = line.slice(0, 40).trimEnd();
      const v = theirs.get(name) ?? [0, 0, 0, 0, 0];
      const add = line.slice(40).trim().split(/\s+/).map(Number);
      theirs.set(
        name,
        v.map((x, i) => x + (add[i] as number)),
      );
    }
    const [a, b] = [byName(before1), byName(after1)];
    assert.ok(theirs.size > 50, `smem listed ${theirs.size} mappings`);
    assert.deepEqual([...a.keys()].sort(), [...theirs.keys()].sort());
    let exact = 0;
    for (const [name, t] of theirs) {
      const match = [a.get(name), b.get(name)].some((o) => o?.every((x, i) => x === t[i]));
      assert.ok(match, `${name}: ours ${a.get(name)} / ${b.get(name)}, smem ${t}`);
      exact++;
    }
    assert.equal(exact, theirs.size);
  });

  it("per process, the mappings' USS, RSS and Swap sum to the rollup's totals, and PSS within 0.5 kB a mapping", () => {
    for (const pid of withDescendants([srv.server.pid])) {
      let ok = false;
      let why = '';
      for (let attempt = 0; attempt < 3 && !ok; attempt++) {
        const rollup = readProcess(pid);
        const maps = readMappings(pid);
        const again = readProcess(pid);
        assert.ok(rollup?.ok && maps && again?.ok);
        const sum = { pssBytes: 0, ussBytes: 0, rssBytes: 0, swapBytes: 0, mappings: 0 };
        for (const r of sumMappings([maps])) {
          sum.pssBytes += r.pssBytes;
          sum.ussBytes += r.ussBytes;
          sum.rssBytes += r.rssBytes;
          sum.swapBytes += r.swapBytes;
          sum.mappings += r.mappings;
        }
        const p = rollup.process;
        const steady = again.process.ussBytes === p.ussBytes && again.process.rssBytes === p.rssBytes;
        const diffKb = (p.pssBytes - sum.pssBytes) / 1024;
        ok =
          steady &&
          sum.ussBytes === p.ussBytes &&
          sum.rssBytes === p.rssBytes &&
          sum.swapBytes === p.swapBytes &&
          diffKb >= -0.5 * sum.mappings &&
          diffKb <= 0.5 * sum.mappings;
        why = `pid ${pid}: USS ${sum.ussBytes} vs ${p.ussBytes}, RSS ${sum.rssBytes} vs ${p.rssBytes}, PSS ${diffKb} kB apart over ${sum.mappings} mappings`;
      }
      assert.ok(ok, why);
    }
  });

  it('--group: heap and anonymous, the interpreter, packages, other files; bad input is one line, exit 2', () => {
    const r = cli(['snapshot', '--pid', String(srv.server.pid), '--tree', '--mappings', '--group', '-t']);
    assert.equal(r.status, 0, r.stderr);
    for (const g of ['heap and anonymous', 'interpreter', 'package numpy', 'other files'])
      assert.match(r.stdout, new RegExp(`^${g} `, 'm'));
    const lone = cli(['snapshot', '--group']);
    assert.equal(lone.status, 2);
    assert.match(lone.stderr, /--group true: groups mappings: add --mappings/);
    const col = cli(['snapshot', '--mappings', '-c', 'map command']);
    assert.equal(col.status, 2);
    assert.match(col.stderr, /--columns "command": unknown column; use any of: map pids/);
  });
});

describe('where a variant saves: the seed scenario', { timeout: 300_000 }, () => {
  it('the report says which groups the preload saving comes from, in bytes', () => {
    const dir = tempDir('memcompare-where-');
    const r = cli(['run', 'preload-vs-nopreload', '--runs', '1', '--markdown', join(dir, 'r.md'), '-q', '-v'], { timeoutMs: 200_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /== Where the memory is: preload against nopreload: USS per worker -3\d\.\d MiB, of which heap and anonymous -3\d\.\d MiB/,
    );
    const md = readFileSync(join(dir, 'r.md'), 'utf8');
    assert.match(md, /## Where the memory is/);
    assert.match(md, /\| heap and anonymous \| 3\d\.\d MiB \| [0-9]\.\d MiB \| -3\d\.\d MiB \|/);
    assert.match(md, /!\[USS per worker by mapping group and variant\]\(r-where\.svg\)/);
  });
});
