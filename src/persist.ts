import { closeSync, constants, existsSync, openSync, realpathSync, type Stats, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { MemcompareError } from './errors.js';

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
 * Fails before anything is booted if a file cannot be written where asked. A real open, not
 * access(2) (root passes access() on read-only mounts and on /proc or /sys), and nothing created
 * but the output itself: an existing file is opened for writing without truncation; a new one is
 * created and removed again.
 */
export function checkWritable(path: string, flag: string): void {
  const file = resolve(path);
  const st = statOf(file);
  const dir = dirname(st ? realpathSync(file) : file);
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
    if (st?.isFIFO()) return; // opening a FIFO for writing would wait for its reader
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

/**
 * Writes an output. A regular file (or a new one) is written atomically, a temporary file beside the
 * real target then a rename, so a reader never sees half of it; a symlink is written through (the
 * link stays a link; write-file-atomic resolves it). A FIFO or a character device is written
 * straight: a rename would replace /dev/null itself.
 */
export function writeAtomic(path: string, text: string): void {
  try {
    const st = statOf(path);
    if (st && !st.isFile()) {
      writeFileSync(path, text);
      return;
    }
    atomic ??= createRequire(import.meta.url)('write-file-atomic') as WriteFileAtomic;
    atomic.sync(path, text);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new MemcompareError('OUTPUT_UNWRITABLE', `${path}: cannot be written (${code}); free space or choose another path`, {
      cause: error,
    });
  }
}
