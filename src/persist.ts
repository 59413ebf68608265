import { accessSync, constants, existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  // A real write, not access(2): root passes access() on read-only mounts and on /proc or /sys.
  const probe = join(dir, `.memcompare-probe-${process.pid}`);
  try {
    if (existsSync(file)) accessSync(file, constants.W_OK);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new MemcompareError(
      'OUTPUT_UNWRITABLE',
      `${flag} ${JSON.stringify(path)}: not writable (${code}); choose a path you can write to`,
    );
  }
}

/** Writes a file atomically (temporary file, then rename), so a reader never sees half of it. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {}
    const code = (error as { code?: string }).code ?? 'error';
    throw new MemcompareError('OUTPUT_UNWRITABLE', `${path}: cannot be written (${code}); free space or choose another path`, {
      cause: error,
    });
  }
}
