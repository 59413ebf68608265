import { readFileSync } from 'node:fs';

/** A file's text, or undefined when it cannot be read (a process gone, a cgroup file this kernel lacks). */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
