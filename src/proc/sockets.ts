import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { listPids } from './tree.js';

/** Inodes of TCP sockets listening on a port (any address, IPv4 or IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number): Set<number> {
  const inodes = new Set<number>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local "ADDR:PORT", f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`)) inodes.add(Number(f[9]));
    }
  }
  return inodes;
}

/** Which of the given pids holds one of the socket inodes open; undefined if none. */
export function socketOwner(inodes: Set<number>, pids: Iterable<number>): number | undefined {
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** The pid listening on a port anywhere on the host, if it can be seen. */
export function portOwner(port: number): number | undefined {
  return socketOwner(listeningInodes(port), listPids());
}

/** CPU time used so far, in nanoseconds (/proc/<pid>/schedstat), and the scheduler state letter. */
export function cpuState(pid: number): { cpuNs: number; state: string } | undefined {
  try {
    const schedstat = readFileSync(`/proc/${pid}/schedstat`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { cpuNs: Number(schedstat.split(' ')[0]), state: stat.charAt(stat.lastIndexOf(')') + 2) };
  } catch {
    return undefined;
  }
}

/**
 * Server-side inodes of established TCP connections to `serverPort` on loopback, by the client's port.
 * A connection still waiting in the listen queue has inode 0 (no process has accepted it yet).
 */
export function acceptedInodes(serverPort: number): Map<number, number> {
  const out = new Map<number, number>();
  const hexPort = serverPort.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local, f[2] remote, f[3] state (01 = ESTABLISHED), f[9] inode
      if (f.length > 9 && f[3] === '01' && f[1]?.endsWith(`:${hexPort}`)) {
        const clientPort = Number.parseInt(f[2]?.split(':').pop() ?? '', 16);
        const inode = Number(f[9]);
        if (inode !== 0) out.set(clientPort, inode);
      }
    }
  }
  return out;
}

/** For each socket inode, the pid (among `pids`) holding it open. */
export function socketHolders(inodes: Iterable<number>, pids: Iterable<number>): Map<number, number> {
  const wanted = new Map([...inodes].map((i) => [`socket:[${i}]`, i]));
  const out = new Map<number, number>();
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
        if (inode !== undefined) out.set(inode, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}
