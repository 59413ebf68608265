import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileRanges, inheritedRanges } from '../../../src/proc/map-ranges.js';
import { estimateFromSmaps } from '../../../src/proc/observer.js';

const MAPS = `55d0a0000000-55d0a0001000 r--p 00000000 fd:01 1311 /usr/sbin/php-fpm8.2
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000097000 r--p 00000000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f1000097000-7f10001ad000 r-xp 00097000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
`;

describe('the observer share: recorded text', () => {
  it('file mappings only, keyed by device and inode, with their addresses', () => {
    const r = fileRanges(MAPS);
    assert.deepEqual(
      r.map((x) => [x.key, x.end - x.start]),
      [
        ['fd:01 1311', 0x1000],
        ['fd:01 2222', 0x97000],
        ['fd:01 2222', 0x116000],
      ],
    );
  });

  const smaps = (
    pss: number,
    rss: number,
    priv: number,
  ) => `7f1000097000-7f10001ad000 r-xp 00097000 fd:01 2222 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
Size:               1112 kB
Rss:                 ${rss} kB
Pss:                 ${pss} kB
Shared_Clean:        ${rss - priv} kB
Shared_Dirty:           0 kB
Private_Clean:       ${priv} kB
Private_Dirty:          0 kB
7f1100000000-7f1100010000 r-xp 00000000 fd:01 9999 /usr/lib/x86_64-linux-gnu/libother.so
Rss:                   64 kB
Pss:                   32 kB
Shared_Clean:          64 kB
Private_Clean:          0 kB
`;

  it('estimates: a library mapped by this process and the observer alone would be private and whole', () => {
    // Rss 1,216 kB at Pss 608: two mappings of every page, one of them the observer's.
    const s = estimateFromSmaps(smaps(608, 1216, 0), new Set(['fd:01 2222']), 1);
    assert.equal(s.pssBytes, 608 * 1024);
    assert.equal(s.ussBytes, 1216 * 1024);
    // Mapped four times (with three server processes): 1/3 instead of 1/4, and still shared.
    const four = estimateFromSmaps(smaps(304, 1216, 0), new Set(['fd:01 2222']), 1);
    assert.equal(four.pssBytes, Math.round((1216 / 3 - 304) * 1024));
    assert.equal(four.ussBytes, 0);
    // A file the observer does not map, or a private mapping, takes nothing.
    assert.deepEqual(estimateFromSmaps(smaps(1216, 1216, 1216), new Set(['fd:01 2222']), 1), { pssBytes: 0, ussBytes: 0 });
    assert.deepEqual(estimateFromSmaps(smaps(608, 1216, 0), new Set(['fd:01 7']), 1), { pssBytes: 0, ussBytes: 0 });
  });
});

describe("the observer share: a forked worker's library ranges taken from its parent", () => {
  const python = '/usr/bin/python3';
  /** A Python parent and its child, alive until killed: forked (`os.fork`) or started anew (`subprocess`: fork and exec). */
  async function pair(script: string): Promise<{ parent: number; child: number; stop: () => void }> {
    const p = spawn(python, ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((resolveLine, reject) => {
      p.stdout.once('data', (d: Buffer) => resolveLine(d.toString()));
      p.once('exit', (code) => reject(new Error(`python exited ${code}`)));
    });
    const child = Number(line.trim());
    return {
      parent: p.pid as number,
      child,
      stop: () => {
        for (const pid of [child, p.pid as number]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      },
    };
  }
  const libs = (pid: number) => fileRanges(readFileSync(`/proc/${pid}/maps`, 'utf8')).filter((r) => /\/lib[^/]*\.so/.test(r.path));

  it('a child forked without exec keeps its parent’s ranges: taken, and the same as its own maps say', { timeout: 20_000 }, async (t) => {
    if (!existsSync(python) || process.getuid?.() !== 0) return t.skip('needs Debian’s python3 and root (map_files)');
    const forked = await pair('import os, sys, time\npid = os.fork()\nif pid: print(pid, flush=True)\ntime.sleep(60)');
    try {
      const mine = libs(forked.parent);
      assert.ok(mine.length > 0);
      assert.deepEqual(inheritedRanges(forked.child, forked.parent, mine), mine);
      assert.deepEqual(libs(forked.child), mine);
    } finally {
      forked.stop();
    }
  });

  it('a child that exec’d the same program (the same libraries, elsewhere) is read, not taken', { timeout: 20_000 }, async (t) => {
    if (!existsSync(python) || process.getuid?.() !== 0) return t.skip('needs Debian’s python3 and root (map_files)');
    const started = await pair(
      `import subprocess, sys\nc = subprocess.Popen([${JSON.stringify(python)}, '-c', 'import time; time.sleep(60)'])\nprint(c.pid, flush=True)\nc.wait()`,
    );
    try {
      assert.equal(inheritedRanges(started.child, started.parent, libs(started.parent)), undefined);
    } finally {
      started.stop();
    }
  });
});
