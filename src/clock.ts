/** Milliseconds from an arbitrary start, monotonic. (The `performance` global loads perf_hooks: avoided on the snapshot path.) */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
