import { connect } from 'node:net';
import type { WarmupSettings } from '../../results/types.js';
import { type Answer, NoAnswerError, type ProbeResult, type Target } from '../protocol.js';

// memcompare owns this FastCGI record layer (the responder side of the protocol a client needs: one
// BEGIN_REQUEST, PARAMS, an empty STDIN, then STDOUT/STDERR until END_REQUEST): the npm clients
// found (fastcgi-client 0.2, fastcgi-stream 1.0 on bufferlist) are unmaintained. It is ~100 lines and
// checked against a real FastCGI pool and Debian's reference client cgi-fcgi (test/integration/php.test.ts).

const VERSION = 1;
const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const STDERR = 7;
const RESPONDER = 1;

function record(type: number, requestId: number, content: Buffer): Buffer {
  const padding = (8 - (content.length % 8)) % 8;
  const header = Buffer.alloc(8);
  header.writeUInt8(VERSION, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(requestId, 2);
  header.writeUInt16BE(content.length, 4);
  header.writeUInt8(padding, 6);
  return Buffer.concat([header, content, Buffer.alloc(padding)]);
}

/** A name-value pair's length: one byte below 128, else four with the high bit set. */
function length(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}

/** The request's records: BEGIN_REQUEST (responder, connection closed after), PARAMS, empty PARAMS, empty STDIN. */
export function encodeRequest(params: Record<string, string>, requestId = 1): Buffer {
  const begin = Buffer.alloc(8);
  begin.writeUInt16BE(RESPONDER, 0);
  const pairs = Object.entries(params).map(([k, v]) => {
    const name = Buffer.from(k);
    const value = Buffer.from(v);
    return Buffer.concat([length(name.length), length(value.length), name, value]);
  });
  const body = Buffer.concat(pairs);
  const chunks: Buffer[] = [record(BEGIN_REQUEST, requestId, begin)];
  for (let i = 0; i < body.length; i += 65535) chunks.push(record(PARAMS, requestId, body.subarray(i, i + 65535)));
  chunks.push(record(PARAMS, requestId, Buffer.alloc(0)), record(STDIN, requestId, Buffer.alloc(0)));
  return Buffer.concat(chunks);
}

export interface FastcgiResponse {
  /** From the CGI Status header (200 without one). */
  status: number;
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** What the script wrote to FastCGI's stderr stream (a PHP pool: "Primary script unknown"). */
  stderr: string;
  /** END_REQUEST's application status. */
  appStatus: number;
}

/** Parses records from a buffer; returns those complete and the rest. */
export function decodeRecords(buf: Buffer): { records: { type: number; content: Buffer }[]; rest: Buffer } {
  const records: { type: number; content: Buffer }[] = [];
  let at = 0;
  while (buf.length - at >= 8) {
    const len = buf.readUInt16BE(at + 4);
    const pad = buf.readUInt8(at + 6);
    if (buf.length - at < 8 + len + pad) break;
    records.push({ type: buf.readUInt8(at + 1), content: buf.subarray(at + 8, at + 8 + len) });
    at += 8 + len + pad;
  }
  return { records, rest: buf.subarray(at) };
}

/** Splits a CGI response ("Status: 404 Not Found\r\nX-Worker-Pid: 12\r\n\r\nbody") into status, headers and body. */
export function parseCgi(stdout: string): { status: number; headers: Record<string, string>; body: string } {
  const split = stdout.search(/\r?\n\r?\n/);
  const head = split < 0 ? stdout : stdout.slice(0, split);
  const body = split < 0 ? '' : stdout.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = Number(/^(\d{3})/.exec(headers.status ?? '')?.[1] ?? 200);
  return { status, headers, body };
}

/** The CGI parameters of a GET of `script` (an absolute path the pool can read), as a web server sends them. */
export function getParams(script: string, port: number, query = ''): Record<string, string> {
  const name = `/${script.split('/').pop() ?? ''}`;
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'memcompare',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_FILENAME: script,
    SCRIPT_NAME: name,
    REQUEST_URI: query ? `${name}?${query}` : name,
    DOCUMENT_URI: name,
    DOCUMENT_ROOT: script.slice(0, script.lastIndexOf('/')) || '/',
    QUERY_STRING: query,
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '0',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: String(port),
    SERVER_NAME: 'localhost',
    CONTENT_LENGTH: '0',
  };
}

/** One FastCGI request over a new connection to 127.0.0.1:port or a Unix socket's path (the connection is closed after it). */
export function fastcgiRequest(
  port: number | string,
  params: Record<string, string>,
  timeoutMs = 10_000,
  signal?: AbortSignal,
): Promise<FastcgiResponse> {
  return new Promise((resolveResponse, reject) => {
    // A loopback TCP port, or a Unix socket (a pool's `listen = /run/php/app.sock`).
    const socket = typeof port === 'string' ? connect({ path: port }) : connect({ host: '127.0.0.1', port });
    let buf: Buffer = Buffer.alloc(0);
    let seen = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let done = false;
    const finish = (error?: Error, appStatus = 0) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) return reject(error);
      const stdout = Buffer.concat(out).toString('utf8');
      resolveResponse({ ...parseCgi(stdout), stderr: Buffer.concat(err).toString('utf8'), appStatus });
    };
    const onAbort = () => finish(new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(timeoutMs, () => finish(new NoAnswerError(`no FastCGI answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(encodeRequest(params)));
    socket.on('data', (d: Buffer) => {
      // Every FastCGI record starts with version 1: anything else is another protocol (HTTP's "HTTP/1.1 …").
      if (!seen && d.length > 0 && d[0] !== VERSION) return finish(new NotFastcgiError());
      seen = true;
      const { records, rest } = decodeRecords(Buffer.concat([buf, d]));
      buf = rest;
      for (const r of records) {
        if (r.type === STDOUT) out.push(r.content);
        else if (r.type === STDERR) err.push(r.content);
        else if (r.type === END_REQUEST) finish(undefined, r.content.length >= 4 ? r.content.readUInt32BE(0) : 0);
      }
    });
    socket.on('error', (e) => finish(e));
    socket.on('close', () => finish(new Error('the FastCGI server closed the connection before END_REQUEST')));
  });
}

/** The peer answered, but not in FastCGI. */
export class NotFastcgiError extends Error {
  constructor() {
    super('the peer does not speak FastCGI');
  }
}

/** The script a settings object names (a scenario checked by the protocol always has one). */
const scriptOf = (settings: WarmupSettings) => settings.script ?? '';

/** Readiness: one FastCGI request answers (any status: a 404 still proves the pool speaks FastCGI). */
export async function fastcgiProbe(target: Target, settings: WarmupSettings): Promise<ProbeResult> {
  try {
    await fastcgiRequest(target.socket ?? target.port, getParams(scriptOf(settings), target.port), 1000);
    return 'answered';
  } catch (error) {
    if (error instanceof NotFastcgiError) return 'wrong-protocol';
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'no-answer';
  }
}

/**
 * One warm-up request over FastCGI on its own connection (as a web server in front of the pool sends them),
 * the worker pid read from the response header.
 */
export async function fastcgiExchange(target: Target, settings: WarmupSettings, signal: AbortSignal): Promise<Answer> {
  const query = settings.path.includes('?') ? (settings.path.split('?')[1] ?? '') : '';
  const header = settings.workerPidHeader?.toLowerCase();
  const r = await fastcgiRequest(target.socket ?? target.port, getParams(scriptOf(settings), target.port, query), 10_000, signal);
  return { status: r.status, workerPid: header ? r.headers[header] : undefined };
}
