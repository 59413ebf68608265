import type { Warning } from '../results/types.js';

/**
 * A warning in words, the same in every medium (terminal, sweep, Markdown, HTML): its kind, where it was
 * seen ("a run 2"), what was seen and what to do. Each medium only chooses the markup around them.
 */
export function warningWords(w: Warning): { kind: string; where: string; message: string; remedy: string } {
  const where = w.variant ? `${w.variant}${w.run ? ` run ${w.run}` : ''}` : '';
  return { kind: w.kind, where, message: w.message, remedy: w.remedy };
}

/** A warning on a terminal: two lines, the second indented. */
export function warningText(w: Warning): string {
  const x = warningWords(w);
  return `warning${x.where ? ` (${x.where})` : ''}: ${x.message}\n  what to do: ${x.remedy}`;
}
