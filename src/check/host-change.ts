import type { HostInfo } from '../results/types.js';

/** One way two results documents' hosts or software differ. */
export interface HostDifference {
  field: string;
  baseline: string;
  current: string;
  /** True when it moves memory (the gate refuses it); false for a note (CPU model, kernel build). */
  blocking: boolean;
}

/** "6.1.0-18-amd64" → "6.1": the kernel's memory management changes between minor versions, not builds. */
export const kernelMajorMinor = (k: string) => /^(\d+\.\d+)/.exec(k)?.[1] ?? k;

/**
 * What differs between the host and software records of a baseline and the current results. PSS
 * depends on the kernel, the distribution's libraries, the core count (workers, allocator arenas),
 * the server and interpreter, and the app's main packages; the CPU model and a kernel build suffix do
 * not move it and are only noted.
 */
export function hostDifferences(b: HostInfo, c: HostInfo): HostDifference[] {
  const out: HostDifference[] = [];
  const add = (field: string, bv: string | number | undefined, cv: string | number | undefined, blocking: boolean) => {
    if (bv === undefined || cv === undefined || String(bv) === String(cv)) return;
    out.push({ field, baseline: String(bv), current: String(cv), blocking });
  };
  add('kernel', kernelMajorMinor(b.kernel), kernelMajorMinor(c.kernel), true);
  add('os', b.os, c.os, true);
  add('cores', b.cores, c.cores, true);
  add('server', b.server, c.server, true);
  add('interpreter', b.software?.interpreter, c.software?.interpreter, true);
  const names = new Set([...Object.keys(b.software?.packages ?? {}), ...Object.keys(c.software?.packages ?? {})]);
  for (const name of [...names].sort()) {
    if (!b.software || !c.software) break;
    add(`package ${name}`, b.software.packages[name] ?? 'absent', c.software.packages[name] ?? 'absent', true);
  }
  if (kernelMajorMinor(b.kernel) === kernelMajorMinor(c.kernel)) add('kernel build', b.kernel, c.kernel, false);
  add('cpu', b.cpu, c.cpu, false);
  return out;
}

export const describeDifference = (d: HostDifference) => `${d.field} ${d.baseline} → ${d.current}`;
