import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { listPids } from './tree.js';

interface TcpRow {
  localPort: number;
  remotePort: number;
  /** Kernel TCP state in hex: 0A LISTEN, 01 ESTABLISHED. */
  state: string;
  /** 0 while no process holds the socket (a connection still in the listen queue). */
  inode: number;
}

/** The TCP sockets of this network namespace, IPv4 and IPv6, from /proc/net/tcp{,6}. */
function tcpRows(): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length <= 9) continue;
      const port = (addr: string | undefined) => Number.parseInt(addr?.split(':').pop() ?? '', 16);
      rows.push({ localPort: port(f[1]), remotePort: port(f[2]), state: f[3] ?? '', inode: Number(f[9]) });
    }
  }
  return rows;
}

/** Inodes of TCP sockets listening on a port (any address, IPv4 or IPv6). */
export function listeningInodes(port: number): Set<number> {
  return new Set(
    tcpRows()
      .filter((r) => r.state === '0A' && r.localPort === port)
      .map((r) => r.inode),
  );
}

/** Server-side inodes of accepted connections to `serverPort`, by the client's port. */
export function acceptedInodes(serverPort: number): Map<number, number> {
  const rows = tcpRows().filter((r) => r.state === '01' && r.localPort === serverPort && r.inode !== 0);
  return new Map(rows.map((r) => [r.remotePort, r.inode]));
}

/** For each socket inode, the pid (among `pids`) holding it open; with `first`, stops at the first found. */
export function socketHolders(inodes: Iterable<number>, pids: Iterable<number>, first = false): Map<number, number> {
  const wanted = new Map([...inodes].map((i) => [`socket:[${i}]`, i]));
  const out = new Map<number, number>();
  if (wanted.size === 0) return out;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = wanted.get(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (inode === undefined) continue;
        out.set(inode, pid);
        if (first) return out;
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

/** Which of the given pids holds one of the socket inodes open; undefined if none. */
export function socketOwner(inodes: Set<number>, pids: Iterable<number>): number | undefined {
  return socketHolders(inodes, pids, true).values().next().value;
}

/** The pid listening on a port anywhere on the host, if it can be seen. */
export function portOwner(port: number): number | undefined {
  return socketOwner(listeningInodes(port), listPids());
}
