import { request } from 'node:http';
import type { ProbeResult } from '../protocol.js';

/** What one GET found: an answer, no connection, or a connection that never answered in time (a hung app). */
export type { ProbeResult };

/** One HTTP GET to loopback. */
export function probe(port: number, path: string, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolveProbe) => {
    let connected = false;
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolveProbe('answered'));
      res.on('error', () => resolveProbe('answered'));
    });
    req.on('socket', (s) => s.once('connect', () => (connected = true)));
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveProbe(connected ? 'no-answer' : 'refused'));
    req.end();
  });
}

/** The body of one GET to loopback (trimmed), or undefined without an answer in time. */
export function fetchBody(port: number, path: string, timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolveBody) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8').trim()));
      res.on('error', () => resolveBody(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveBody(undefined));
    req.end();
  });
}
