import { closeSync, constants, existsSync, lstatSync, open, openSync, readlinkSync, type Stats, statSync, unlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { realClock } from './clock.js';
import { MemcompareError } from './errors.js';

const openFd = promisify(open);

type WriteFileAtomic = { sync(path: string, data: string): void };
let atomic: WriteFileAtomic | undefined;

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path); // follows symlinks: the kind of the real target
  } catch {
    return undefined;
  }
}

/**
 * The path a write lands on: symlinks followed one by one, so that a link whose target does not
 * exist yet (a stable name pointing at a dated file still to be written) leads to that target.
 * (realpath(3) fails on a dangling link, and write-file-atomic would then rename over the link.)
 */
export function finalTarget(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(current);
    } catch {
      return current; // does not exist (yet): this is where the file goes
    }
    if (!st.isSymbolicLink()) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new MemcompareError('OUTPUT_UNWRITABLE', `${path}: too many levels of symbolic links; point it at a file`);
}

/** True for an output that is not a regular file (a FIFO, a character device, a /dev/fd path): it gets one document, at the end. */
export function isStreamOutput(path: string): boolean {
  const st = statOf(path);
  return st !== undefined && !st.isFile() && !st.isDirectory();
}

/**
 * Fails before anything is booted if a file cannot be written where asked. A real open, not
 * access(2) (root passes access() on read-only mounts and on /proc or /sys), and nothing created
 * but the output itself: an existing file is opened for writing without truncation; a new one is
 * created and removed again.
 */
export function checkWritable(path: string, flag: string): void {
  const file = finalTarget(path);
  const st = statOf(file);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MemcompareError(
      'OUTPUT_UNWRITABLE',
      `${flag} ${JSON.stringify(path)}: folder ${dir} does not exist; create it first (mkdir -p ${dir})`,
    );
  }
  if (st?.isDirectory()) {
    throw new MemcompareError('OUTPUT_UNWRITABLE', `${flag} ${JSON.stringify(path)}: is a folder; name a file in it`);
  }
  try {
    if (st?.isFIFO()) return; // opening a FIFO for writing would wait for its reader (it is opened at the end, without blocking)
    if (st) closeSync(openSync(file, constants.O_WRONLY | (st.isFile() ? 0 : constants.O_NONBLOCK)));
    else {
      closeSync(openSync(file, 'wx'));
      unlinkSync(file);
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new MemcompareError(
      'OUTPUT_UNWRITABLE',
      `${flag} ${JSON.stringify(path)}: not writable (${code}); choose a path you can write to`,
    );
  }
}

function unwritable(path: string, error: unknown): MemcompareError {
  if (error instanceof MemcompareError) return error;
  const code = (error as { code?: string }).code ?? 'error';
  return new MemcompareError('OUTPUT_UNWRITABLE', `${path}: cannot be written (${code}); free space or choose another path`, {
    cause: error,
  });
}

/**
 * Writes a regular file atomically: a temporary file beside the real target, then a rename, so a
 * reader never sees half of it. A symlink is written through (the link stays a link), a dangling
 * one included. Not for FIFOs or devices (rename would replace /dev/null itself): see writeOutput.
 */
export function writeAtomic(path: string, text: string): void {
  try {
    const target = finalTarget(path);
    atomic ??= createRequire(import.meta.url)('write-file-atomic') as WriteFileAtomic;
    atomic.sync(target, text);
  } catch (error) {
    throw unwritable(path, error);
  }
}

export interface StreamWriteOptions {
  /** How long a FIFO may go without a reader before it is an error (default 10 s). */
  readerWaitMs?: number;
  /** Ends the wait (and a write in progress) early: memcompare is being stopped. */
  signal?: AbortSignal;
}

/**
 * Writes one document to a FIFO or a device without ever blocking the event loop. A FIFO is opened
 * with O_NONBLOCK (ENXIO while no reader has it open: polled, bounded) and written through a
 * non-blocking pipe handle, so a reader that stops reading cannot stop a signal from ending memcompare.
 */
async function writeStream(path: string, text: string, o: StreamWriteOptions): Promise<void> {
  const st = statOf(path);
  if (!st?.isFIFO()) {
    await writeFile(path, text, o.signal ? { signal: o.signal } : {}); // a device: /dev/null, a terminal
    return;
  }
  const waitMs = o.readerWaitMs ?? 10_000;
  const started = realClock.now();
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      // A raw fd (not a FileHandle, whose finalizer would close it): it is handed to the socket below.
      fd = await openFd(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENXIO') throw error;
      if (o.signal?.aborted || realClock.now() - started > waitMs) {
        throw new MemcompareError(
          'OUTPUT_UNWRITABLE',
          `${path}: no process is reading this FIFO (waited ${(Math.min(waitMs, realClock.now() - started) / 1000).toFixed(1)} s); start its reader first (cat ${path} > out.json), or write to a regular file`,
        );
      }
      await realClock.sleep(50);
    }
  }
  const socket = new Socket({ fd, readable: false, writable: true });
  await new Promise<void>((done, fail) => {
    const onAbort = () => socket.destroy(new MemcompareError('OUTPUT_UNWRITABLE', `${path}: write abandoned, memcompare is stopping`));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      fail(e);
    });
    socket.end(text, () => {
      o.signal?.removeEventListener('abort', onAbort);
      done();
    });
  });
}

/** Writes an output of any kind: a regular file atomically, a FIFO or a device once, without blocking. */
export async function writeOutput(path: string, text: string, o: StreamWriteOptions = {}): Promise<void> {
  if (!isStreamOutput(path)) return writeAtomic(path, text);
  try {
    await writeStream(path, text, o);
  } catch (error) {
    throw unwritable(path, error);
  }
}
