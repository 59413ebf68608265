import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { listPids } from './tree.js';

interface TcpRow {
  localPort: number;
  remotePort: number;
  /** The addresses as the file holds them (hex words in the host's byte order). */
  localHex: string;
  remoteHex: string;
  /** Kernel TCP state in hex: 0A LISTEN, 01 ESTABLISHED. */
  state: string;
  /** 0 while no process holds the socket (a connection still in the listen queue). */
  inode: number;
}

/**
 * The TCP sockets of this network namespace, IPv4 and IPv6, from /proc/net/tcp{,6} (or the texts given),
 * those `keep` accepts (by state and local port, read before the rest of the row is parsed). A host
 * after a load test holds tens of thousands of TIME_WAIT rows (10,420 here after one seed run: 1.5 MB
 * of text, ~70 ms to read and split whole); only the rows kept are parsed. With `listenOnly`, the read
 * stops at the first row that is not LISTEN: the kernel lists listening sockets first (its listening
 * hash, then the established one: tcp_get_idx in net/ipv4/tcp_ipv4.c), so a listener lookup reads one
 * page instead of the whole table.
 */
function tcpRows(keep: (state: string, localPort: number) => boolean, texts?: readonly string[], listenOnly = false): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const file of texts ?? ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      if (!texts && !familyInUse(file)) continue;
      text = texts ? file : readTable(file, listenOnly);
    } catch {
      continue;
    }
    let start = text.indexOf('\n') + 1;
    while (start > 0 && start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const row = parseRow(text.slice(start, end), keep);
      start = end + 1;
      if (row === 'not-listening') {
        if (listenOnly) break;
        continue;
      }
      if (row) rows.push(row);
    }
  }
  return rows;
}

/**
 * Whether a /proc/net/tcp{,6} file can hold a socket a process has open: /proc/net/sockstat{,6} counts the family's
 * sockets in use (listening and connected, not TIME_WAIT). The kernel walks every TIME_WAIT socket of the host
 * before it says a file holds no row (6.5 ms for /proc/net/tcp6 at 52,000, with no IPv6 socket at all); the count
 * costs 0.04 ms. Unknown (no such file): read the table.
 */
function familyInUse(table: string): boolean {
  const six = table.endsWith('6');
  try {
    const m = new RegExp(`^TCP${six ? '6' : ''}: inuse (\\d+)`, 'm').exec(readFileSync(`/proc/net/sockstat${six ? '6' : ''}`, 'latin1'));
    return !m || Number(m[1]) > 0;
  } catch {
    return true;
  }
}

/** One row: `sl: local remote st …`; the local port and state are read first, the rest only for a row kept. */
function parseRow(line: string, keep: (state: string, localPort: number) => boolean): TcpRow | undefined | 'not-listening' {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  const localEnd = line.indexOf(' ', colon + 2);
  const remoteEnd = line.indexOf(' ', localEnd + 1);
  if (localEnd < 0 || remoteEnd < 0) return undefined;
  const local = line.slice(colon + 2, localEnd);
  const state = line.slice(remoteEnd + 1, remoteEnd + 3);
  const localPort = Number.parseInt(local.slice(local.indexOf(':') + 1), 16);
  if (!keep(state, localPort)) return state === '0A' ? undefined : 'not-listening';
  // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
  const f = line.trim().split(/\s+/);
  if (f.length <= 9) return undefined;
  const remote = f[2] ?? '';
  return {
    localPort,
    remotePort: Number.parseInt(remote.slice(remote.indexOf(':') + 1), 16),
    localHex: local.slice(0, local.indexOf(':')),
    remoteHex: remote.slice(0, remote.indexOf(':')),
    state,
    inode: Number(f[9]),
  };
}

/** A /proc/net/tcp file's text; with `listenOnly`, read a chunk at a time until a row that is not LISTEN. */
function readTable(file: string, listenOnly: boolean): string {
  if (!listenOnly) return readFileSync(file, 'utf8');
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(16 * 1024);
    let text = '';
    while (true) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return text;
      text += chunk.toString('latin1', 0, n);
      // Rows after the header whose state (after two addresses) is not 0A end the listening part.
      if (/^\s*\d+: \S+ \S+ (?!0A)[0-9A-F]{2} /m.test(text.slice(text.indexOf('\n') + 1))) return text;
    }
  } finally {
    closeSync(fd);
  }
}

/** Inodes of TCP sockets listening on a port (any address, IPv4 or IPv6). */
export function listeningInodes(port: number): Set<number> {
  return new Set(tcpRows((st, p) => st === '0A' && p === port, undefined, true).map((r) => r.inode));
}

/** Server-side inodes of accepted connections to `serverPort`, by the client's port. */
export function acceptedInodes(serverPort: number): Map<number, number> {
  const rows = tcpRows((st, p) => st === '01' && p === serverPort).filter((r) => r.inode !== 0);
  return new Map(rows.map((r) => [r.remotePort, r.inode]));
}

/** For each socket inode, the pid (among `pids`) holding it open; with `first`, stops at the first found. */
export function socketHolders(inodes: Iterable<number>, pids: Iterable<number>, first = false): Map<number, number> {
  const wanted = new Set(inodes);
  const out = new Map<number, number>();
  if (wanted.size === 0) return out;
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) {
      if (!wanted.has(inode)) continue;
      out.set(inode, pid);
      if (first) return out;
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

/** One TCP connection held by several processes (the same inode in each one's /proc/<pid>/fd). */
export interface TcpConnectionShared<R extends string = string> {
  /** The socket's inode (the same in every holder's /proc/<pid>/fd). */
  inode: number;
  /** This end, address:port. */
  local: string;
  /** The other end, address:port (a database, a cache, a broker). */
  peer: string;
  /** The kernel's TCP state name (ESTABLISHED, CLOSE_WAIT, …). */
  state: string;
  holders: { pid: number; role: R }[];
}

/** The kernel's TCP states by their hex code in /proc/net/tcp (include/net/tcp_states.h). */
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/**
 * An address of /proc/net/tcp{,6} as text. The kernel prints each 32-bit word of the address in the
 * host's byte order (little-endian on the machines memcompare runs on); an IPv4-mapped IPv6 address
 * is shown as IPv4. Kept here (no library parses this file) because it is a dozen lines.
 */
export function addressText(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => Number.parseInt(w.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (mapped) return bytes.slice(12).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The socket inodes each process holds open, from /proc/<pid>/fd (a process gone meanwhile holds none). */
function socketInodes(pid: number): number[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The inodes of this network namespace's Unix-domain sockets (/proc/net/unix: `Num RefCount Protocol Flags Type St Inode Path`). */
function unixInodes(): Set<number> {
  const out = new Set<number>();
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const inode = Number(line.trim().split(/\s+/)[6]);
    if (inode > 0) out.add(inode);
  }
  return out;
}

/**
 * TCP connections (any state but LISTEN) that a worker holds open together with another process of the
 * tree: opened before the fork (at import, in a preloaded master) and inherited. Unix-domain connections
 * are not seen (their peer is only known through sock_diag). `held`, `tcp` and `unix` are seams for tests.
 */
export function sharedConnections<R extends string>(
  roles: ReadonlyMap<number, R | 'worker'>,
  held: (pid: number) => number[] = socketInodes,
  tcp: readonly string[] | undefined = undefined,
  unix: ReadonlySet<number> | undefined = tcp ? new Set() : undefined,
): TcpConnectionShared<R | 'worker' | 'other'>[] {
  const holders = new Map<number, number[]>();
  for (const pid of roles.keys()) for (const inode of new Set(held(pid))) holders.set(inode, [...(holders.get(inode) ?? []), pid]);
  let shared = [...holders].filter(([, pids]) => pids.length > 1 && pids.some((p) => roles.get(p) === 'worker'));
  if (shared.length === 0) return [];
  // Every pre-forking server's workers share its listening socket, and the stdio a launcher gives it (Node's are
  // Unix socket pairs): both are set aside first, the listening rows read alone (they come first in the table) and
  // the Unix sockets from their own short table. The whole TCP table (tens of thousands of TIME_WAIT rows after a
  // throughput phase: 130 ms of a run's measurement) is read only when another socket is shared.
  const listening = new Set(tcpRows((st) => st === '0A', tcp, true).map((r) => r.inode));
  const local = unix ?? unixInodes();
  shared = shared.filter(([inode]) => !listening.has(inode) && !local.has(inode));
  if (shared.length === 0) return [];
  const rows = new Map(tcpRows((st) => st !== '0A' && st !== '06', tcp).map((r) => [r.inode, r]));
  const out: TcpConnectionShared<R | 'worker' | 'other'>[] = [];
  for (const [inode, pids] of shared) {
    const r = rows.get(inode);
    if (!r || r.state === '0A') continue;
    out.push({
      inode,
      local: `${addressText(r.localHex)}:${r.localPort}`,
      peer: `${addressText(r.remoteHex)}:${r.remotePort}`,
      state: TCP_STATES[r.state] ?? r.state,
      holders: pids.sort((a, b) => a - b).map((pid) => ({ pid, role: roles.get(pid) ?? 'other' })),
    });
  }
  return out.sort((a, b) => a.inode - b.inode);
}
