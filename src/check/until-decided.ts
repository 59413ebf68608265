import { splitByRevision } from '../results/revisions.js';
import type { ResultsDocument } from '../results/types.js';
import { DEFAULT_GATE, evaluateGate } from './gate.js';

/**
 * `--until-decided MAX`: one more interleaved round while check's default gate leaves a row undecided
 * (its interval straddles the threshold), until MAX runs per variant (sequential, as Pinpoint does).
 */
export function untilDecided(max: number, say?: NodeJS.WritableStream): (doc: ResultsDocument, rounds: number) => boolean {
  return (doc, rounds) => {
    const split = splitByRevision(doc);
    if (!split) return false;
    const rows = evaluateGate(split.base, split.head, DEFAULT_GATE, true);
    const open = rows.filter((r) => r.verdict === 'inconclusive');
    if (open.length === 0) return false;
    const names = open.map((r) => `${r.variant} ${r.scope}`).join(', ');
    if (rounds >= max) {
      say?.write(
        `memcompare: ${open.length} of ${rows.length} gate rows still undecided after ${rounds} runs (--until-decided ${max}): ${names}\n`,
      );
      return false;
    }
    say?.write(`memcompare: ${open.length} of ${rows.length} gate rows undecided after ${rounds} runs (${names}); one more round\n`);
    return true;
  };
}
