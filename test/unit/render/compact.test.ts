import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderRunSummary } from '../../../src/render/terminal.js';
import { makeResults } from '../../results-fixture.js';

describe("run's summary: a screen by default, everything with --verbose", () => {
  const doc = makeResults({ runs: 3 });
  it('default: a line per variant, the comparison, where the rest is; no warm-up summary or process table; fits 100 columns', () => {
    const out = renderRunSummary(doc, 100);
    const lines = out.trimEnd().split('\n');
    assert.ok(lines.length <= 40, `${lines.length} lines`);
    for (const l of lines) assert.ok([...l].length <= 100, l);
    for (const v of doc.variants)
      assert.ok(
        lines.some((l) => l.startsWith(`  ${v.name}: `)),
        v.name,
      );
    assert.match(out, /│ PSS total/);
    assert.match(out, /More: --verbose/);
    assert.doesNotMatch(out, /Latency distribution|Status code distribution/);
  });
  it('--verbose: the warm-up and process table of every variant as well', () => {
    const out = renderRunSummary(doc, 100, true);
    assert.match(out, /Latency distribution/);
    for (const v of doc.variants) assert.match(out, new RegExp(`== ${v.name}, run \\d of 3`));
  });
});
