import type { ResultsDocument } from './types.js';

/**
 * A `run --baseline-ref` document as two documents of the same scenario and variant names: the base
 * revision's variants and the working tree's. Undefined when the document measured one revision only.
 */
export function splitByRevision(doc: ResultsDocument): { base: ResultsDocument; head: ResultsDocument } | undefined {
  const base = doc.variants.filter((v) => v.revision?.role === 'base');
  const head = doc.variants.filter((v) => v.revision?.role === 'head');
  if (base.length === 0 || head.length === 0) return undefined;
  return {
    base: { ...doc, variants: base.map((v) => ({ ...v, name: v.name.replace(/@base$/, '') })) },
    head: { ...doc, variants: head },
  };
}
