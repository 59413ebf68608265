import { accessSync, constants, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MemcompareError } from './errors.js';

/** Fails before anything is booted if a file cannot be written where asked. */
export function checkWritable(path: string, flag: string): void {
  const file = resolve(path);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MemcompareError(
      'OUTPUT_UNWRITABLE',
      `${flag} ${JSON.stringify(path)}: folder ${dir} does not exist; create it first (mkdir -p ${dir})`,
    );
  }
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch {
    throw new MemcompareError('OUTPUT_UNWRITABLE', `${flag} ${JSON.stringify(path)}: not writable; choose a path you can write to`);
  }
}

/** Writes a file atomically (temporary file, then rename), so a reader never sees half of it. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
