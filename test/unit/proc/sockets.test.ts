import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressText, listeningInodes, sharedConnections } from '../../../src/proc/sockets.js';
import type { Role } from '../../../src/results/types.js';
import { diagnose } from '../../../src/run/diagnose.js';

// Recorded from this machine's /proc/net/tcp and tcp6 (a preloaded gunicorn whose app connected to
// 127.0.0.1:6379 at import; the listener on 8000; an accepted connection; and IPv6 rows).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A2C4 0100007F:18EB 01 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:A2C6 0100007F:18EB 08 00000000:00000000 00:00000000 00000000     0        0 5004 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:B0A2 00000000000000000000000001000000:1538 01 00000000:00000000 00:00000000 00000000     0        0 6001 1 0000000000000000 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:B0A4 0000000000000000FFFF00000100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 6002 1 0000000000000000 20 4 30 10 -1
`;

describe('connections the workers inherited (/proc/<pid>/fd against /proc/net/tcp{,6})', () => {
  it('addresses as the kernel prints them: words in host byte order, IPv6 shortened, IPv4-mapped as IPv4', () => {
    assert.equal(addressText('0100007F'), '127.0.0.1');
    assert.equal(addressText('00000000'), '0.0.0.0');
    assert.equal(addressText('00000000000000000000000001000000'), '::1');
    assert.equal(addressText('0000000000000000FFFF00000100007F'), '127.0.0.1');
    assert.equal(addressText('000080FE00000000FF0202004BE1FFFE'), 'fe80::2:2ff:feff:e14b');
  });

  it('a connection held by a worker and the master (or two workers) is shared; the listener, an accepted one and a lone one are not', () => {
    const roles = new Map<number, Role>([
      [100, 'master'],
      [101, 'worker'],
      [102, 'worker'],
      [103, 'other'],
    ]);
    const held: Record<number, number[]> = {
      100: [5001, 5002, 5004],
      101: [5001, 5002, 5003, 6001],
      102: [5001, 5002, 5004, 6001, 6002],
      103: [6002],
    };
    const shared = sharedConnections(roles, (pid) => held[pid] ?? [], [TCP, TCP6]);
    assert.deepEqual(
      shared.map((c) => [c.inode, c.peer, c.state, c.holders.map((h) => `${h.pid}:${h.role}`).join(' ')]),
      [
        [5002, '127.0.0.1:6379', 'ESTABLISHED', '100:master 101:worker 102:worker'],
        [5004, '127.0.0.1:6379', 'CLOSE_WAIT', '100:master 102:worker'],
        [6001, '::1:5432', 'ESTABLISHED', '101:worker 102:worker'],
        [6002, '127.0.0.1:3306', 'ESTABLISHED', '102:worker 103:other'],
      ],
    );
    // Held by the master and a helper only: no worker's requests go through it.
    assert.deepEqual(
      sharedConnections(
        new Map<number, Role>([
          [100, 'master'],
          [103, 'other'],
        ]),
        () => [5002],
        [TCP],
      ),
      [],
    );
  });

  it("one named warning per shared connection, with the family's hook as the remedy", () => {
    const facts = {
      variant: 'preload',
      run: 1,
      warmup: { requests: 1, durationMs: 1, statusCodes: { 200: 1 }, idleWorkers: [], errors: 0 },
      warmedWorkers: 2,
      settle: { settled: true, samples: 3, durationMs: 10 },
      processes: [],
      skipped: [],
      expectedWorkers: 0,
      replacedWorkers: [],
      sharedConnections: [
        {
          inode: 5002,
          local: '127.0.0.1:41668',
          peer: '127.0.0.1:6379',
          state: 'ESTABLISHED',
          holders: [
            { pid: 100, role: 'master' as const },
            { pid: 101, role: 'worker' as const },
            { pid: 102, role: 'worker' as const },
          ],
        },
      ],
      connectAfterFork: 'the post-fork hook',
    } as unknown as Parameters<typeof diagnose>[0];
    const w = diagnose(facts).filter((x) => x.kind === 'inherited-connection');
    assert.equal(w.length, 1);
    assert.match(w[0]?.message ?? '', /^2 workers and the master hold one TCP connection to 127\.0\.0\.1:6379 /);
    assert.equal(w[0]?.remedy, 'open it in each worker after the fork: the post-fork hook');
    assert.deepEqual(
      diagnose({ ...facts, sharedConnections: [] }).filter((x) => x.kind === 'inherited-connection'),
      [],
    );
  });
});

describe('listeners from /proc/net/tcp{,6}, read up to the end of the listening rows', () => {
  it('finds a listener of this process (and only on its port), as a read of the whole table does', async () => {
    const { createServer } = await import('node:net');
    const { readFileSync } = await import('node:fs');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const whole = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((x) => x.length > 9 && x[3] === '0A' && Number.parseInt(x[1]?.split(':')[1] ?? '', 16) === port)
          .map((x) => Number(x[9])),
      );
      assert.equal(whole.length, 1);
      assert.deepEqual([...listeningInodes(port)], whole);
      // A connection to it (ESTABLISHED, after the listening rows) is not a listener.
      assert.equal(listeningInodes(port + 1 === 65536 ? 1 : port + 1).has(whole[0] as number), false);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('finds an IPv6 listener (a family is skipped only while /proc/net/sockstat6 counts none of its sockets in use)', async (t) => {
    const { createServer } = await import('node:net');
    const server = createServer();
    const listening = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(0, '::1', () => r(true));
    });
    if (!listening) {
      t.skip('no IPv6 loopback here');
      return;
    }
    try {
      const port = (server.address() as { port: number }).port;
      assert.equal(listeningInodes(port).size, 1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
